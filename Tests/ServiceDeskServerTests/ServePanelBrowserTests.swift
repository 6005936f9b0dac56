import Foundation
import TestSupport
import Testing

@Suite("shopbulk serve: the panel in headless Chromium", .serialized, .enabled(if: TestEnvironment.databaseTestsEnabled))
struct ServePanelBrowserTests {
    @Test("a delivered order, one in transit and a refund at 360 px: no console error, hostile values shown as text, screenshot")
    func panelInChromium() async throws {
        let h = try ServeHarness()
        try await Fixture.load(into: h)
        let key = try await h.createKey("desk")
        let s = try h.start(["--frame-ancestors", "https://desk.example.com"])
        let link = try await Web.post(s.base + "/v1/panel-links", key: key, json: ["shop": "desk", "email": "ann@example.com"])
        let url = try #require(link.json?["url"] as? String)
        // SHOPBULK_PANEL_SCREENSHOT=docs/panel.png keeps the picture (the README shows it).
        let shot =
            ProcessInfo.processInfo.environment["SHOPBULK_PANEL_SCREENSHOT"].map {
                $0.hasPrefix("/") ? $0 : TestEnvironment.packageRoot + "/" + $0
            }
            ?? h.dir + "/panel.png"
        let expected = [
            Fixture.hostileFirst, Fixture.hostileLast, Fixture.hostileCarrier, "EV<b>1</b>", "2 pairs arrived torn <u>twice</u>",
            "Calls <i>after</i> 5 pm & asks for 'Jo'", "<b>bold</b>", "Delivered", "In transit", "Refund", "14.00 EUR",
            "1Z999AA10123456784", "JD014600006281230704", "#1001", "#1002", "#1003",
        ]
        let arguments =
            [TestEnvironment.packageRoot + "/scripts/panel-check", url, shot, "--width", "360"] + expected.flatMap { ["--expect", $0] }
        let r = try await onThread { try runProcess("/usr/bin/env", ["python3"] + arguments) }
        print("panel-check: \(r.stdout)")
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stderr)")
        #expect(report["ok"] as? Bool == true)
        #expect((report["problems"] as? [Any])?.isEmpty == true)
        // The two http(s) tracking URLs are links (newest order first); the javascript: one is not.
        #expect(
            report["links"] as? [String] == [
                "https://www.dhl.com/en/express/tracking.html?AWB=JD014600006281230704",
                "https://www.ups.com/track?tracknum=1Z999AA10123456784",
            ])
        #expect((report["scroll_width"] as? Int ?? 999) <= 360)
        let png = try Data(contentsOf: URL(fileURLWithPath: shot))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 10_000)
        // The page the browser saw came over the signed link, logged without its token.
        #expect(s.log.contains("http.route=/panel http.status=200"))
        #expect(!s.log.contains("token="))
    }
}
