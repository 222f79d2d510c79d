// Replaced by the AccessPolicy tests.
