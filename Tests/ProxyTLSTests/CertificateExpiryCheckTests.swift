import Foundation
import ProxyTLS
import Testing

@Suite struct CertificateExpiryCheckTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let day: TimeInterval = 86_400

    func certificate(
        validFor lifetime: TimeInterval,
        remaining: TimeInterval,
        role: CertificateValidity.Role = .server
    ) -> CertificateValidity {
        let notAfter = now.addingTimeInterval(remaining)
        return CertificateValidity(
            role: role,
            subject: "/CN=db",
            serial: "01",
            notBefore: notAfter.addingTimeInterval(-lifetime),
            notAfter: notAfter
        )
    }

    @Test func aYearLongCertificateIsReportedInsideTheConfiguredWindow() {
        let early = certificate(validFor: 398 * day, remaining: 31 * day)
        let late = certificate(validFor: 398 * day, remaining: 29 * day)
        #expect(CertificateExpiryCheck.findings([early], now: now, warningDays: 30).isEmpty)
        let findings = CertificateExpiryCheck.findings([late], now: now, warningDays: 30)
        #expect(findings == [.expiresSoon(late, remaining: 29 * day)])
        #expect(findings.first?.message == "the TLS certificate expires in 29 days")
        #expect(findings.first?.isError == false)
    }

    @Test func anACMECertificateIsNotReportedWhileItsRenewalIsOnSchedule() {
        // certbot renews a 90-day certificate at 30 days left; the window is 90/4 = 22.5 days.
        let dueForRenewal = certificate(validFor: 90 * day, remaining: 29 * day)
        let overdue = certificate(validFor: 90 * day, remaining: 22 * day)
        #expect(CertificateExpiryCheck.findings([dueForRenewal], now: now, warningDays: 30).isEmpty)
        #expect(CertificateExpiryCheck.findings([overdue], now: now, warningDays: 30).count == 1)
        let sixDays = certificate(validFor: 6 * day, remaining: 2 * day)
        #expect(CertificateExpiryCheck.findings([sixDays], now: now, warningDays: 30).isEmpty)
        let sixDaysLate = certificate(validFor: 6 * day, remaining: 30 * 3_600)
        #expect(
            CertificateExpiryCheck.findings([sixDaysLate], now: now, warningDays: 30).first?.message
                == "the TLS certificate expires in 1 day"
        )
    }

    @Test func expiredAndNotYetValidCertificatesAreReportedWhateverTheWindow() {
        let expired = certificate(validFor: 90 * day, remaining: -1, role: .ca)
        let future = CertificateValidity(
            role: .server,
            subject: "/CN=x",
            serial: "02",
            notBefore: now.addingTimeInterval(day),
            notAfter: now.addingTimeInterval(90 * day)
        )
        let findings = CertificateExpiryCheck.findings([expired, future], now: now, warningDays: 0)
        #expect(findings == [.expired(expired), .notYetValid(future)])
        #expect(
            findings.map { $0.isError } == [false, true],
            "an expired CA is a warning, the server's own certificate an error"
        )
        #expect(findings.first?.message == "a CA certificate in ssl_ca has expired")
    }

    @Test func zeroDaysReportsOnlyExpiredCertificates() {
        let soon = certificate(validFor: 398 * day, remaining: 3_600)
        #expect(CertificateExpiryCheck.findings([soon], now: now, warningDays: 0).isEmpty)
        #expect(
            CertificateExpiryCheck.findings([soon], now: now, warningDays: 1).first?.message
                == "the TLS certificate expires in 1 hour"
        )
    }

    @Test func theWindowIsAQuarterOfTheLifetimeAtMost() {
        #expect(CertificateExpiryCheck.window(lifetime: 90 * day, warningDays: 30) == 22.5 * day)
        #expect(CertificateExpiryCheck.window(lifetime: 398 * day, warningDays: 30) == 30 * day)
        #expect(CertificateExpiryCheck.window(lifetime: nil, warningDays: 30) == 30 * day)
    }
}
