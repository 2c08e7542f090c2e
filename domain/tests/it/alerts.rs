//! Alerts to owners and managers on both engines, mailed through a real SMTP
//! server on loopback: a key that expires within 7 days (once per key), usage past 80 %
//! and at 100 % of the monthly limit (once per billing window each); each person's
//! notices until dismissed and their choice per kind; a refused message is retried and
//! a new instance sends what an old one left, never twice.

use crate::common::smtp::SmtpServer;
use crate::common::{PASSWORD, app_named, key_input, tenant_with_user};
use gatehouse_domain::alerts::AlertMailer;
use gatehouse_domain::tenants::TenantUpdate;
use gatehouse_domain::{Actor, CallOutcome, Clock, Gatehouse};
use gatehouse_model::{
    AlertKind, AlertPreference, AuditFilter, ErrorCode, EventType, KeyMode, PageRequest, Role,
    TenantId,
};

const DASHBOARD: &str = "https://gatehouse.example.com";

async fn person(gatehouse: &Gatehouse, tenant_id: &TenantId, email: &str, role: Role) -> Actor {
    gatehouse
        .operator()
        .create_user(tenant_id, email, role, Some(PASSWORD.to_owned()))
        .await
        .unwrap();
    let session = gatehouse.sign_in(email, PASSWORD, None).await.unwrap();
    gatehouse.session(&session.token).await.unwrap().actor
}

fn mailing(gatehouse: Gatehouse, smtp: &SmtpServer) -> Gatehouse {
    let mailer =
        AlertMailer::new(&smtp.url, "Gatehouse <alerts@gatehouse.test>", DASHBOARD).unwrap();
    gatehouse.with_alert_mailer(Some(mailer))
}

async fn notices(gatehouse: &Gatehouse, actor: &Actor) -> Vec<(AlertKind, String)> {
    gatehouse
        .alerts_panel(actor)
        .await
        .unwrap()
        .notices
        .into_iter()
        .map(|alert| (alert.kind, alert.title))
        .collect()
}

on_both_engines!(
    an_expiring_key_is_mailed_to_owners_and_managers_once_and_shown_until_dismissed,
    |gatehouse: Gatehouse| async move {
        let smtp = SmtpServer::start().await;
        let clock = Clock::manual(1_780_000_000_000);
        let gatehouse = mailing(gatehouse.with_clock(clock.clone()), &smtp);
        let (tenant_id, owner) =
            tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let manager = person(&gatehouse, &tenant_id, "manager@acme.test", Role::Manager).await;
        person(&gatehouse, &tenant_id, "member@acme.test", Role::Member).await;
        let app = app_named(&gatehouse, &owner, "Checkout").await;
        let created = gatehouse
            .create_api_key(
                &owner,
                &gatehouse_model::ApiKeyInput {
                    name: "Orders sync".into(),
                    expiry_days: Some(3),
                    ..key_input(&app, KeyMode::Live, None)
                },
            )
            .await
            .unwrap();
        let lasting = gatehouse
            .create_api_key(
                &owner,
                &gatehouse_model::ApiKeyInput {
                    expiry_days: Some(30),
                    ..key_input(&app, KeyMode::Live, None)
                },
            )
            .await
            .unwrap();

        assert_eq!(gatehouse.announce_expiring_keys().await.unwrap(), 1);
        let expected_title = "An API key expires on 2026-05-31 20:26 UTC";
        assert_eq!(
            notices(&gatehouse, &owner).await,
            [(AlertKind::KeyExpiring, expected_title.to_owned())]
        );
        assert_eq!(notices(&gatehouse, &manager).await.len(), 1);

        // Mailed to the owner and the manager, not the member.
        assert_eq!(gatehouse.send_due_alerts().await.unwrap(), 2);
        let mail = smtp.mail();
        let mut recipients: Vec<String> = mail.iter().flat_map(|mail| mail.to.clone()).collect();
        recipients.sort();
        assert_eq!(recipients, ["manager@acme.test", "owner@acme.test"]);
        let message = &mail[0];
        assert!(
            message.from.contains("alerts@gatehouse.test"),
            "{}",
            message.from
        );
        assert!(
            message.text.contains(&format!("Subject: {expected_title}")),
            "{}",
            message.text
        );
        assert!(
            message.text.contains("\nKey name: \"Orders sync\""),
            "{}",
            message.text
        );
        assert!(message.text.contains("\nApp: \"Checkout\""));
        assert!(message.text.contains(created.key.id.as_str()));
        assert!(message.text.contains("expires on 2026-05-31 20:26 UTC"));
        assert!(
            message
                .text
                .contains(&format!("{DASHBOARD}/settings/developers/api-keys"))
        );
        assert!(
            !message.text.contains(&created.plaintext),
            "no secret in the mail"
        );
        assert!(!message.text.contains(&lasting.plaintext));

        // Once per key: later passes send nothing more, the key announced once.
        clock.advance_ms(3_600_000);
        assert_eq!(gatehouse.announce_expiring_keys().await.unwrap(), 0);
        assert_eq!(gatehouse.send_due_alerts().await.unwrap(), 0);
        assert_eq!(smtp.mail().len(), 2);

        // Dismissed by the owner: gone for the owner, still there for the manager.
        let alert_id = gatehouse.alerts_panel(&owner).await.unwrap().notices[0]
            .id
            .clone();
        gatehouse.dismiss_alert(&owner, &alert_id).await.unwrap();
        assert!(notices(&gatehouse, &owner).await.is_empty());
        assert_eq!(notices(&gatehouse, &manager).await.len(), 1);
        let again = gatehouse
            .dismiss_alert(&owner, &alert_id)
            .await
            .unwrap_err();
        assert_eq!(again.code(), ErrorCode::NotFound);
        let (_, stranger) =
            tenant_with_user(&gatehouse, "stranger@other.test", Role::Owner, true).await;
        let theirs = gatehouse
            .dismiss_alert(&stranger, &alert_id)
            .await
            .unwrap_err();
        assert_eq!(theirs.code(), ErrorCode::NotFound);
        assert!(notices(&gatehouse, &stranger).await.is_empty());
    }
);

on_both_engines!(
    usage_alerts_come_once_per_window_honour_choices_and_survive_refusals_and_restarts,
    |gatehouse: Gatehouse| async move {
        let smtp = SmtpServer::start().await;
        let clock = Clock::manual(1_780_000_000_000);
        let gatehouse = mailing(gatehouse.with_clock(clock.clone()), &smtp);
        let (tenant_id, owner) =
            tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let manager = person(&gatehouse, &tenant_id, "manager@acme.test", Role::Manager).await;
        gatehouse
            .operator()
            .update_tenant(
                &tenant_id,
                &TenantUpdate {
                    monthly_call_limit: Some(10),
                    ..TenantUpdate::default()
                },
            )
            .await
            .unwrap();
        // The manager wants no alert at the limit (80 % stays on).
        let choice = AlertPreference {
            kind: AlertKind::UsageExhausted,
            enabled: false,
        };
        gatehouse
            .set_alert_preference(&manager, choice)
            .await
            .unwrap();
        let panel = gatehouse.alerts_panel(&manager).await.unwrap();
        assert!(panel.email_configured);
        assert_eq!(
            panel
                .preferences
                .iter()
                .filter(|preference| !preference.enabled)
                .map(|preference| preference.kind)
                .collect::<Vec<_>>(),
            [AlertKind::UsageExhausted]
        );
        // The choice is in the audit trail, with who made it.
        let choices = gatehouse
            .search_audit_events(
                &owner,
                &AuditFilter {
                    event_type: Some(EventType::AlertPreferenceUpdated),
                    ..AuditFilter::default()
                },
                &PageRequest::default(),
            )
            .await
            .unwrap()
            .data;
        assert_eq!(choices.len(), 1, "{choices:?}");
        assert_eq!(choices[0].actor_label, "manager@acme.test");
        assert_eq!(
            choices[0].message.as_deref(),
            Some("Alerts \"Live usage reached the monthly limit\" turned off")
        );

        let app = app_named(&gatehouse, &owner, "Checkout").await;
        let live = gatehouse
            .create_api_key(&owner, &key_input(&app, KeyMode::Live, None))
            .await
            .unwrap();
        let test = gatehouse
            .create_api_key(&owner, &key_input(&app, KeyMode::Test, None))
            .await
            .unwrap();
        let live = gatehouse
            .authenticate_api_key(&live.plaintext)
            .await
            .unwrap()
            .unwrap();
        let test = gatehouse
            .authenticate_api_key(&test.plaintext)
            .await
            .unwrap()
            .unwrap();
        let calls = |key, count| {
            for _ in 0..count {
                gatehouse.record_call(key, CallOutcome::Succeeded);
            }
        };

        // 7 of 10 live calls and any number of test calls: nothing yet.
        assert_eq!(
            gatehouse.check_usage_alerts().await.unwrap(),
            0,
            "the first check looks at all"
        );
        calls(&live, 7);
        calls(&test, 50);
        gatehouse.flush_usage().await.unwrap();
        assert_eq!(gatehouse.check_usage_alerts().await.unwrap(), 0);
        // The 8th: 80 %, once.
        calls(&live, 1);
        gatehouse.flush_usage().await.unwrap();
        assert_eq!(gatehouse.check_usage_alerts().await.unwrap(), 1);
        calls(&live, 1);
        gatehouse.flush_usage().await.unwrap();
        assert_eq!(
            gatehouse.check_usage_alerts().await.unwrap(),
            0,
            "80 % once per window"
        );
        // The SMTP server refuses the first message: it waits and is sent later.
        smtp.refuse_next(1);
        assert_eq!(gatehouse.send_due_alerts().await.unwrap(), 1);
        assert_eq!(smtp.mail().len(), 1);
        assert_eq!(
            gatehouse.send_due_alerts().await.unwrap(),
            0,
            "the retry waits a minute"
        );
        clock.advance_ms(61_000);
        assert_eq!(gatehouse.send_due_alerts().await.unwrap(), 1);
        let mail = smtp.mail();
        assert_eq!(mail.len(), 2);
        assert!(
            mail.iter()
                .all(|mail| mail.text.contains("has used 80 % of its monthly API calls"))
        );
        assert!(
            mail[0]
                .text
                .contains(&format!("{DASHBOARD}/settings/developers/usage"))
        );

        // At 100 %: recorded, but the manager turned that kind off.
        calls(&live, 1);
        gatehouse.flush_usage().await.unwrap();
        assert_eq!(gatehouse.check_usage_alerts().await.unwrap(), 1);
        let kinds = |list: Vec<(AlertKind, String)>| {
            list.into_iter().map(|(kind, _)| kind).collect::<Vec<_>>()
        };
        assert_eq!(
            kinds(notices(&gatehouse, &owner).await),
            [AlertKind::UsageExhausted, AlertKind::UsageWarning]
        );
        assert_eq!(
            kinds(notices(&gatehouse, &manager).await),
            [AlertKind::UsageWarning]
        );

        // A restart before it is sent: a new instance on the same database sends it,
        // once; the old one finds nothing left.
        let restarted = mailing(gatehouse.clone().with_alert_mailer(None), &smtp);
        assert_eq!(restarted.send_due_alerts().await.unwrap(), 1);
        assert_eq!(gatehouse.send_due_alerts().await.unwrap(), 0);
        let mail = smtp.mail();
        assert_eq!(mail.len(), 3);
        assert_eq!(mail[2].to, ["owner@acme.test"]);
        assert!(mail[2].text.contains("reached its monthly API call limit"));

        // A new billing window: 80 % may be alerted again.
        clock.advance_ms(40 * 86_400_000);
        calls(&live, 9);
        gatehouse.flush_usage().await.unwrap();
        assert_eq!(gatehouse.check_usage_alerts().await.unwrap(), 1);
    }
);

on_both_engines!(
    without_smtp_alerts_are_notices_only,
    |gatehouse: Gatehouse| async move {
        let clock = Clock::manual(1_780_000_000_000);
        let gatehouse = gatehouse.with_clock(clock.clone());
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let app = app_named(&gatehouse, &owner, "Checkout").await;
        gatehouse
            .create_api_key(
                &owner,
                &gatehouse_model::ApiKeyInput {
                    expiry_days: Some(2),
                    ..key_input(&app, KeyMode::Live, None)
                },
            )
            .await
            .unwrap();
        assert_eq!(gatehouse.announce_expiring_keys().await.unwrap(), 1);
        assert_eq!(gatehouse.send_due_alerts().await.unwrap(), 0);
        let panel = gatehouse.alerts_panel(&owner).await.unwrap();
        assert!(!panel.email_configured);
        assert_eq!(panel.notices.len(), 1);
        // A key's own call cannot read a person's alerts.
        let key = gatehouse
            .create_api_key(&owner, &key_input(&app, KeyMode::Live, None))
            .await
            .unwrap();
        let key_actor = gatehouse.api_key_actor(Some(&key.plaintext)).await.unwrap();
        assert!(gatehouse.alerts_panel(&key_actor).await.is_err());
    }
);

on_both_engines!(
    typed_names_reach_mail_as_quoted_data_and_a_tenant_gets_few_mails_an_hour,
    |gatehouse: Gatehouse| async move {
        use gatehouse_domain::alerts::MAX_MAILS_PER_TENANT_PER_HOUR;
        let smtp = SmtpServer::start().await;
        let clock = Clock::manual(1_780_000_000_000);
        let gatehouse = mailing(gatehouse.with_clock(clock.clone()), &smtp);
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let app = app_named(&gatehouse, &owner, "Checkout").await;
        let named = |name: &str| gatehouse_model::ApiKeyInput {
            name: name.into(),
            expiry_days: Some(3),
            ..key_input(&app, KeyMode::Test, None)
        };
        // A name cannot carry a second line of "instructions".
        let refused = gatehouse
            .create_api_key(
                &owner,
                &named("Orders\nYour account is locked, sign in again"),
            )
            .await
            .unwrap_err();
        assert_eq!(refused.code(), ErrorCode::ValidationFailed);
        assert!(format!("{:?}", refused.to_detail()).contains("one line"));

        // A name with a link in it is mailed as quoted data, its link defanged, and
        // never in the subject.
        let phishing = "Urgent: verify billing at https://evil.example/login or www.evil.example";
        gatehouse
            .create_api_key(&owner, &named(phishing))
            .await
            .unwrap();
        for index in 0..MAX_MAILS_PER_TENANT_PER_HOUR + 5 {
            gatehouse
                .create_api_key(&owner, &named(&format!("Batch key {index}")))
                .await
                .unwrap();
        }
        let announced = gatehouse.announce_expiring_keys().await.unwrap() as i64;
        assert_eq!(announced, MAX_MAILS_PER_TENANT_PER_HOUR + 6);

        // One recipient (the owner), one mail per key: the hour's share goes out, the
        // rest waits without spending attempts.
        let mut sent = 0;
        for _ in 0..3 {
            sent += gatehouse.send_due_alerts().await.unwrap() as i64;
        }
        assert_eq!(sent, MAX_MAILS_PER_TENANT_PER_HOUR);
        let mail = smtp.mail();
        assert_eq!(mail.len() as i64, MAX_MAILS_PER_TENANT_PER_HOUR);
        for message in &mail {
            assert!(!message.text.contains("https://evil"), "{}", message.text);
            assert!(!message.text.contains("www.evil"), "{}", message.text);
        }
        clock.advance_ms(3_600_000 + 1);
        let mut later = 0;
        for _ in 0..3 {
            later += gatehouse.send_due_alerts().await.unwrap() as i64;
        }
        assert_eq!(later, 6);
        let mail = smtp.mail();
        let phishing_mail = mail
            .iter()
            .find(|message| message.text.contains("evil"))
            .expect("the key with the link in its name was announced too");
        assert!(
            phishing_mail.text.contains(
                "\nKey name: \"Urgent: verify billing at https[:]//evil.example/login or www[.]evil.example\""
            ),
            "{}",
            phishing_mail.text
        );
        let subject = phishing_mail
            .text
            .lines()
            .find(|line| line.starts_with("Subject:"))
            .unwrap();
        assert!(
            subject.starts_with("Subject: An API key expires on"),
            "{subject}"
        );
    }
);
