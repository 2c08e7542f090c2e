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
