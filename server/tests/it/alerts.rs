//! Alerts through the real binary: with `GATEHOUSE_SMTP_URL` naming a real
//! SMTP server on loopback, live usage past 80 % of the monthly limit is mailed to the
//! tenant's owner within seconds, once, with a link to the dashboard and no secret; the
//! same alert is the owner's notice on the Overview until dismissed.

// The same SMTP server the domain's alert tests use.

use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn usage_past_80_percent_is_mailed_once_and_shown_until_dismissed() {
    let smtp = crate::smtp::SmtpServer::start().await;
    let server = start_with_env(&[
        ("GATEHOUSE_SMTP_URL", smtp.url.as_str()),
        ("GATEHOUSE_SMTP_FROM", "Gatehouse <alerts@gatehouse.test>"),
    ])
    .await;
    let (owner, app_id) = owner_with_app(&server, &[]).await;
    let (_, live) = dashboard_key(&owner, &server.base, &app_id, "live", None).await;
    update_tenant(&server, &["--monthly-limit", "10"]);
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    for _ in 0..8 {
        assert_eq!(whoami(&server.base, &live).await.status(), 200);
    }

    // Counted within a second, checked every 5 s, then mailed.
    let started = Instant::now();
    while smtp.mail().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no alert email arrived"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mail = smtp.mail();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to, [OWNER]);
    assert!(mail[0].from.contains("alerts@gatehouse.test"));
    let text = &mail[0].text;
    assert!(
        text.contains("Subject: Demo Company has used 80 % of its monthly API calls"),
        "{text}"
    );
    assert!(text.contains("8 of 10 live platform calls"), "{text}");
    assert!(
        text.contains(&format!("{}/settings/developers/usage", server.base)),
        "{text}"
    );
    assert!(!text.contains(&live), "no secret in the mail");

    // The same alert on the Overview, until dismissed; nothing is sent twice.
    let (status, panel) = server_fn(&owner, &server.base, "load_alerts", json!({})).await;
    assert_eq!(status, 200, "{panel}");
    assert_eq!(panel["email_configured"], true);
    let notices = panel["notices"].as_array().unwrap();
    assert_eq!(notices.len(), 1, "{panel}");
    assert_eq!(notices[0]["kind"], "usage_80");
    let alert_id = notices[0]["id"].as_str().unwrap().to_owned();
    // A cross-site page cannot dismiss it for the owner.
    let forged = reqwest::Client::new()
        .post(format!("{}/api/dismiss_alert", server.base))
        .header("sec-fetch-site", "cross-site")
        .json(&json!({ "alert_id": alert_id }))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let (status, _) = server_fn(
        &owner,
        &server.base,
        "dismiss_alert",
        json!({ "alert_id": alert_id }),
    )
    .await;
    assert_eq!(status, 200);
    let (_, panel) = server_fn(&owner, &server.base, "load_alerts", json!({})).await;
    assert!(panel["notices"].as_array().unwrap().is_empty(), "{panel}");
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(smtp.mail().len(), 1, "sent once");
}
