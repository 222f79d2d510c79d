// Intentionally empty: SwiftPM wants a source file in every C target; the module is the header.
