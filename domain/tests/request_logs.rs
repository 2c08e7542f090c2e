//! The request log on both engines (issue 11): buffered entries are written by the
//! flush and searched per app and mode with filters and keyset pages; a key reads only
//! its own app and mode and no tenant reads another's; a full buffer drops and counts;
//! a failed write loses nothing; old entries are purged in bounded batches.

mod common;

use std::sync::Arc;

use common::{app_named, create_key, key_input, owner_with_app, tenant_with_user};
use gatehouse_domain::request_log::RequestRecord;
use gatehouse_domain::{Clock, Gatehouse, KeyPrincipal};
use gatehouse_model::{ErrorCode, KeyMode, PageRequest, RequestLogFilter, Role, StatusClass};

async fn principal(gatehouse: &Gatehouse, plaintext: &str) -> Arc<KeyPrincipal> {
    Arc::new(
        gatehouse
            .authenticate_api_key(plaintext)
            .await
            .unwrap()
            .unwrap(),
    )
}

fn record(
    gatehouse: &Gatehouse,
    key: &Arc<KeyPrincipal>,
    route: &str,
    status: u16,
    code: Option<&'static str>,
) -> RequestRecord {
    RequestRecord {
        id: gatehouse.fresh_request_id(),
        key: Arc::clone(key),
        method: "GET",
        route: route.to_owned(),
        status,
        error_code: code,
        verify_code: None,
        latency_us: 120,
        origin: None,
        client_ip: Some("192.0.2.1".to_owned()),
    }
}

fn all() -> PageRequest {
    PageRequest::default()
}

on_both_engines!(
    requests_are_written_in_batches_and_searched_by_filter_and_cursor,
    |gatehouse: Gatehouse| async move {
        let clock = Clock::manual(1_780_000_000_000);
        let gatehouse = gatehouse.with_clock(clock.clone());
        let (_, owner, app) = owner_with_app(&gatehouse).await;
        let reader = gatehouse
            .create_api_key(
                &owner,
                &key_input(&app, KeyMode::Live, Some(&["request_logs:read"])),
            )
            .await
            .unwrap();
        let caller = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        let tester = create_key(&gatehouse, &owner, &app, KeyMode::Test, None).await;
        let other_app = app_named(&gatehouse, &owner, "Billing").await;
        let elsewhere = create_key(&gatehouse, &owner, &other_app, KeyMode::Live, None).await;
        let caller_key = principal(&gatehouse, &caller.plaintext).await;
        let tester_key = principal(&gatehouse, &tester.plaintext).await;
        let elsewhere_key = principal(&gatehouse, &elsewhere.plaintext).await;

        // 250 calls of the caller a millisecond apart, every tenth a refusal; one test
        // call; one call of the other app.
        for call in 0..250 {
            let refused = call % 10 == 9;
            let entry = if refused {
                record(
                    &gatehouse,
                    &caller_key,
                    "/v1/api-keys/{id}",
                    403,
                    Some("insufficient_scope"),
                )
            } else {
                record(&gatehouse, &caller_key, "/v1/whoami", 200, None)
            };
            assert!(gatehouse.log_request(entry));
            clock.advance_ms(1);
        }
        assert!(gatehouse.log_request(record(&gatehouse, &tester_key, "/v1/whoami", 200, None)));
        assert!(gatehouse.log_request(record(&gatehouse, &elsewhere_key, "/v1/whoami", 200, None)));
        assert_eq!(gatehouse.flush_request_logs().await.unwrap(), 252);
        assert_eq!(
            gatehouse.flush_request_logs().await.unwrap(),
            0,
            "written once"
        );

        // The owner reads the app's live side, newest first, 100 at a time.
        let of_app = RequestLogFilter {
            app_id: Some(app.clone()),
            ..Default::default()
        };
        let first = gatehouse
            .search_request_logs(&owner, &of_app, &all())
            .await
            .unwrap();
        assert_eq!(first.data.len(), 100);
        assert!(
            first
                .data
                .windows(2)
                .all(|pair| pair[0].occurred_at >= pair[1].occurred_at)
        );
        assert_eq!(
            first.data[0].route, "/v1/api-keys/{id}",
            "the 250th call was a refusal"
        );
        let mut seen: Vec<_> = first.data.iter().map(|entry| entry.id.clone()).collect();
        let mut cursor = first.next_cursor.clone();
        while let Some(after) = cursor {
            // Entries logged while paging do not disturb the pages.
            gatehouse.log_request(record(&gatehouse, &caller_key, "/v1/whoami", 200, None));
            gatehouse.flush_request_logs().await.unwrap();
            let page = gatehouse
                .search_request_logs(
                    &owner,
                    &of_app,
                    &PageRequest {
                        limit: Some(100),
                        cursor: Some(after),
                    },
                )
                .await
                .unwrap();
            seen.extend(page.data.iter().map(|entry| entry.id.clone()));
            cursor = page.next_cursor;
        }
        assert_eq!(seen.len(), 250, "every call of the app's live side, once");
        let unique: std::collections::BTreeSet<_> = seen.iter().collect();
        assert_eq!(unique.len(), 250);

        // Filters.
        let refusals = RequestLogFilter {
            app_id: Some(app.clone()),
            status_class: Some(StatusClass::ClientError),
            ..Default::default()
        };
        let refused = gatehouse
            .search_request_logs(&owner, &refusals, &all())
            .await
            .unwrap();
        assert_eq!(refused.data.len(), 25);
        assert!(
            refused
                .data
                .iter()
                .all(|entry| entry.error_code.as_deref() == Some("insufficient_scope"))
        );
        let by_code = RequestLogFilter {
            error_code: Some("insufficient_scope".into()),
            ..of_app.clone()
        };
        assert_eq!(
            gatehouse
                .search_request_logs(&owner, &by_code, &all())
                .await
                .unwrap()
                .data
                .len(),
            25
        );
        let by_route = RequestLogFilter {
            route: Some("/v1/whoami".into()),
            ..of_app.clone()
        };
        let whoami = gatehouse
            .search_request_logs(&owner, &by_route, &all())
            .await
            .unwrap();
        assert!(
            whoami
                .data
                .iter()
                .all(|entry| entry.route == "/v1/whoami" && entry.status == 200)
        );
        // A time range: the first 10 ms of calls.
        let start = chrono::DateTime::from_timestamp_millis(1_780_000_000_000).unwrap();
        let early = RequestLogFilter {
            from: Some(start),
            to: Some(start + chrono::Duration::milliseconds(10)),
            ..of_app.clone()
        };
        let early = gatehouse
            .search_request_logs(&owner, &early, &all())
            .await
            .unwrap();
        assert_eq!(early.data.len(), 10);
        assert!(
            early
                .data
                .iter()
                .all(|entry| entry.occurred_at < start + chrono::Duration::milliseconds(10))
        );
        let backwards = RequestLogFilter {
            from: Some(start),
            to: Some(start),
            ..of_app.clone()
        };
        let error = gatehouse
            .search_request_logs(&owner, &backwards, &all())
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::ValidationFailed);

        // Test mode apart; the whole tenant without an app.
        let test_side = RequestLogFilter {
            mode: Some(KeyMode::Test),
            ..of_app.clone()
        };
        let test_side = gatehouse
            .search_request_logs(&owner, &test_side, &all())
            .await
            .unwrap();
        assert_eq!(test_side.data.len(), 1);
        assert_eq!(test_side.data[0].key_id, tester.key.id);

        // A key reads its own app and mode only.
        let reader_actor = gatehouse
            .api_key_actor(Some(&reader.plaintext))
            .await
            .unwrap();
        let own = gatehouse
            .search_request_logs(
                &reader_actor,
                &RequestLogFilter::default(),
                &PageRequest {
                    limit: Some(100),
                    cursor: None,
                },
            )
            .await
            .unwrap();
        assert!(
            own.data
                .iter()
                .all(|entry| entry.app_id == app && entry.mode == KeyMode::Live)
        );
        let other = RequestLogFilter {
            app_id: Some(other_app.clone()),
            ..Default::default()
        };
        let error = gatehouse
            .search_request_logs(&reader_actor, &other, &all())
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::NotFound);
        let test_mode = RequestLogFilter {
            mode: Some(KeyMode::Test),
            ..Default::default()
        };
        let error = gatehouse
            .search_request_logs(&reader_actor, &test_mode, &all())
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::ValidationFailed);
        // And a key without the scope reads nothing.
        let unscoped = gatehouse
            .create_api_key(
                &owner,
                &key_input(&app, KeyMode::Live, Some(&["apps:read"])),
            )
            .await
            .unwrap();
        let unscoped = gatehouse
            .api_key_actor(Some(&unscoped.plaintext))
            .await
            .unwrap();
        let error = gatehouse
            .search_request_logs(&unscoped, &RequestLogFilter::default(), &all())
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::InsufficientScope);

        // Another tenant sees none of it, and the app is not found for it.
        let (_, stranger) =
            tenant_with_user(&gatehouse, "stranger@other.test", Role::Owner, true).await;
        let theirs = gatehouse
            .search_request_logs(&stranger, &RequestLogFilter::default(), &all())
            .await
            .unwrap();
        assert!(theirs.data.is_empty());
        let error = gatehouse
            .search_request_logs(&stranger, &of_app, &all())
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::NotFound);
    }
);

on_both_engines!(
    every_field_reads_back_as_it_was_logged_and_an_origin_is_bounded,
    |gatehouse: Gatehouse| async move {
        let clock = Clock::manual(1_780_000_000_000);
        let gatehouse = gatehouse.with_clock(clock.clone());
        let (_, owner, app) = owner_with_app(&gatehouse).await;
        let caller = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        let key = principal(&gatehouse, &caller.plaintext).await;
        // A client chooses its Origin header: quotes, a backslash, JSON and SQL syntax
        // and non-ASCII text are stored as they came, not interpreted.
        let origin = r#"https://x.test/"},{"a":1}\' OR 1=1; -- é 漢"#;
        let logged = RequestRecord {
            verify_code: Some("REVOKED"),
            latency_us: 9_007_199_254_740_993,
            origin: Some(origin.to_owned()),
            client_ip: None,
            method: "POST",
            ..record(
                &gatehouse,
                &key,
                "/v1/keys/verify",
                401,
                Some("api_key_revoked"),
            )
        };
        assert!(gatehouse.log_request(logged.clone()));
        clock.advance_ms(1);
        let plain = record(&gatehouse, &key, "/v1/whoami", 200, None);
        assert!(gatehouse.log_request(plain.clone()));
        assert_eq!(gatehouse.flush_request_logs().await.unwrap(), 2);
        let page = gatehouse
            .search_request_logs(&owner, &RequestLogFilter::default(), &all())
            .await
            .unwrap();
        assert_eq!(page.data.len(), 2);
        // An Origin far beyond any real one is kept to its first 300 bytes.
        clock.advance_ms(1);
        let huge = format!("https://{}", "é".repeat(100_000));
        let oversized = RequestRecord {
            origin: Some(huge.clone()),
            ..record(
                &gatehouse,
                &key,
                "/v1/whoami",
                403,
                Some("origin_not_allowed"),
            )
        };
        assert!(gatehouse.log_request(oversized));
        assert_eq!(gatehouse.flush_request_logs().await.unwrap(), 1);
        let newest = gatehouse
            .search_request_logs(&owner, &RequestLogFilter::default(), &all())
            .await
            .unwrap();
        let kept = newest.data[0].origin.clone().unwrap();
        assert!(
            kept.len() <= 300 && kept.len() >= 298,
            "{} bytes",
            kept.len()
        );
        assert!(huge.starts_with(&kept));
        let newest_first = [(&plain, &page.data[0], 1), (&logged, &page.data[1], 0)];
        for (written, read, after_ms) in newest_first {
            assert_eq!(read.id, written.id);
            assert_eq!(
                read.occurred_at.timestamp_millis(),
                1_780_000_000_000 + after_ms
            );
            assert_eq!(read.key_id, caller.key.id);
            assert_eq!(read.app_id, app);
            assert_eq!(read.mode, KeyMode::Live);
            assert_eq!(read.method, written.method);
            assert_eq!(read.route, written.route);
            assert_eq!(read.status, written.status);
            assert_eq!(read.error_code.as_deref(), written.error_code);
            assert_eq!(read.verify_code.as_deref(), written.verify_code);
            assert_eq!(read.latency_us, written.latency_us);
            assert_eq!(read.origin, written.origin);
            assert_eq!(read.client_ip, written.client_ip);
        }
    }
);

on_both_engines!(
    a_full_buffer_drops_and_counts_and_old_entries_are_purged,
    |gatehouse: Gatehouse| async move {
        let clock = Clock::manual(1_780_000_000_000);
        let gatehouse = gatehouse.with_clock(clock.clone()).with_request_log(3, 30);
        let (_, owner, app) = owner_with_app(&gatehouse).await;
        let caller = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        let key = principal(&gatehouse, &caller.plaintext).await;
        for _ in 0..3 {
            assert!(gatehouse.log_request(record(&gatehouse, &key, "/v1/whoami", 200, None)));
        }
        assert!(
            !gatehouse.log_request(record(&gatehouse, &key, "/v1/whoami", 200, None)),
            "full"
        );
        assert!(!gatehouse.log_request(record(&gatehouse, &key, "/v1/whoami", 200, None)));
        assert_eq!(gatehouse.request_logs_dropped(), 2);
        assert!(
            gatehouse
                .scrape_metrics()
                .await
                .unwrap()
                .contains("gatehouse_request_logs_dropped_total 2")
        );
        assert_eq!(gatehouse.flush_request_logs().await.unwrap(), 3);
        assert!(
            gatehouse.log_request(record(&gatehouse, &key, "/v1/whoami", 200, None)),
            "room again"
        );
        gatehouse.flush_request_logs().await.unwrap();

        // 31 days on, a newer entry is logged, then the purge takes the old ones.
        clock.advance_ms(31 * 86_400_000);
        gatehouse.log_request(record(&gatehouse, &key, "/v1/whoami", 200, None));
        gatehouse.flush_request_logs().await.unwrap();
        let report = gatehouse.purge_expired().await.unwrap();
        assert_eq!(report.request_logs, 4);
        let left = gatehouse
            .search_request_logs(&owner, &RequestLogFilter::default(), &all())
            .await
            .unwrap();
        assert_eq!(left.data.len(), 1);

        // A log turned off (retention 0) keeps nothing.
        let off = gatehouse.clone().with_request_log(3, 0);
        assert!(!off.request_logging());
        assert!(!off.log_request(record(&off, &key, "/v1/whoami", 200, None)));
    }
);

on_both_engines!(
    the_logs_page_reads_the_selected_app_and_a_key_its_own_requests,
    |gatehouse: Gatehouse| async move {
        let (_, owner, checkout) = owner_with_app(&gatehouse).await;
        let billing = app_named(&gatehouse, &owner, "Billing").await;
        let caller = create_key(&gatehouse, &owner, &checkout, KeyMode::Live, None).await;
        let tester = create_key(&gatehouse, &owner, &checkout, KeyMode::Test, None).await;
        let elsewhere = create_key(&gatehouse, &owner, &billing, KeyMode::Live, None).await;
        for (key, route) in [
            (&caller, "/v1/whoami"),
            (&tester, "/v1/apps"),
            (&elsewhere, "/v1/api-keys"),
        ] {
            let principal = principal(&gatehouse, &key.plaintext).await;
            gatehouse.log_request(record(&gatehouse, &principal, route, 200, None));
        }
        gatehouse.flush_request_logs().await.unwrap();

        // The first app is the selected one: its live side by default, its test side apart.
        let live = gatehouse
            .request_logs_page(&owner, RequestLogFilter::default(), &all())
            .await
            .unwrap();
        assert_eq!(live.app.as_ref().map(|app| &app.id), Some(&checkout));
        assert_eq!(live.mode, KeyMode::Live);
        let routes = |page: &gatehouse_model::RequestLogsPage| -> Vec<String> {
            page.requests
                .data
                .iter()
                .map(|entry| entry.route.clone())
                .collect()
        };
        assert_eq!(routes(&live), ["/v1/whoami"]);
        let test = gatehouse
            .request_logs_page(
                &owner,
                RequestLogFilter {
                    mode: Some(KeyMode::Test),
                    ..Default::default()
                },
                &all(),
            )
            .await
            .unwrap();
        assert_eq!(routes(&test), ["/v1/apps"]);
        // Asking for another app by id changes nothing: the page follows the selection.
        let asked_other = gatehouse
            .request_logs_page(
                &owner,
                RequestLogFilter {
                    app_id: Some(billing.clone()),
                    ..Default::default()
                },
                &all(),
            )
            .await
            .unwrap();
        assert_eq!(routes(&asked_other), ["/v1/whoami"]);
        gatehouse.select_app(&owner, &billing).await.unwrap();
        let billing_page = gatehouse
            .request_logs_page(&owner, RequestLogFilter::default(), &all())
            .await
            .unwrap();
        assert_eq!(routes(&billing_page), ["/v1/api-keys"]);

        // A key's detail: its own requests, in its own mode.
        let of_tester = gatehouse
            .recent_requests_of_key(&owner, &tester.key.id, 10)
            .await
            .unwrap();
        assert_eq!(of_tester.len(), 1);
        assert_eq!(of_tester[0].key_id, tester.key.id);
        assert_eq!(of_tester[0].mode, KeyMode::Test);

        // Another tenant: no app selected, nothing to show, and the key is not found.
        let (_, stranger) =
            tenant_with_user(&gatehouse, "stranger@other.test", Role::Owner, true).await;
        let theirs = gatehouse
            .request_logs_page(&stranger, RequestLogFilter::default(), &all())
            .await
            .unwrap();
        assert!(theirs.app.is_none() && theirs.requests.data.is_empty());
        let error = gatehouse
            .recent_requests_of_key(&stranger, &tester.key.id, 10)
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::NotFound);
    }
);

on_both_engines!(
    a_verification_of_a_revoked_or_disabled_key_names_the_key_for_its_log_only,
    |gatehouse: Gatehouse| async move {
        let (_, owner, app) = owner_with_app(&gatehouse).await;
        let revoked = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        let disabled = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        gatehouse
            .revoke_api_key(&owner, &revoked.key.id)
            .await
            .unwrap();
        gatehouse
            .set_api_key_enabled(&owner, &disabled.key.id, false)
            .await
            .unwrap();
        for (created, code) in [
            (&revoked, gatehouse_model::VerifyCode::Revoked),
            (&disabled, gatehouse_model::VerifyCode::Disabled),
        ] {
            let verification = gatehouse
                .verify_api_key_naming_it(&gatehouse_model::VerifyKeyRequest {
                    key: created.plaintext.clone(),
                    scope: None,
                })
                .await
                .unwrap();
            assert_eq!(verification.answer.code, code);
            // The answer says nothing about whose key it is …
            assert!(
                verification.answer.key_id.is_none() && verification.answer.tenant_id.is_none()
            );
            // … the log entry is filed under it.
            assert_eq!(
                verification.key.map(|key| key.key_id.clone()),
                Some(created.key.id.clone())
            );
        }
        let unknown = gatehouse
            .verify_api_key_naming_it(&gatehouse_model::VerifyKeyRequest {
                key: "sk_live_unknown".into(),
                scope: None,
            })
            .await
            .unwrap();
        assert!(unknown.key.is_none());
    }
);
