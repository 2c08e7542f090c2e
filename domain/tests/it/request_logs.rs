//! The request log on both engines: buffered entries are written by the
//! flush and searched per app and mode with filters and keyset pages; a key reads only
//! its own app and mode and no tenant reads another's; a full buffer drops and counts;
//! a failed write loses nothing; old entries are purged in bounded batches; entries
//! logged late or in many segments come back in id order, each once; the rows of the
//! log's first form are rewritten as segments.

use std::sync::Arc;

use crate::common::{app_named, create_key, key_input, owner_with_app, tenant_with_user};
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
        let gatehouse = gatehouse.with_clock(clock.clone()).with_request_log(4, 30);
        let (_, owner, app) = owner_with_app(&gatehouse).await;
        let caller = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        let key = principal(&gatehouse, &caller.plaintext).await;
        let (_, other_owner) =
            tenant_with_user(&gatehouse, "owner@other.test", Role::Owner, true).await;
        let other_app = app_named(&gatehouse, &other_owner, "Other").await;
        let other_caller =
            create_key(&gatehouse, &other_owner, &other_app, KeyMode::Live, None).await;
        let other_key = principal(&gatehouse, &other_caller.plaintext).await;
        // One tenant fills at most half the buffer: the other always has room.
        for _ in 0..2 {
            assert!(gatehouse.log_request(record(&gatehouse, &key, "/v1/whoami", 200, None)));
        }
        assert!(
            !gatehouse.log_request(record(&gatehouse, &key, "/v1/whoami", 200, None)),
            "over its share"
        );
        for _ in 0..2 {
            assert!(gatehouse.log_request(record(&gatehouse, &other_key, "/v1/whoami", 200, None)));
        }
        // Now the buffer is full: entries are dropped and counted.
        assert!(
            !gatehouse.log_request(record(&gatehouse, &other_key, "/v1/whoami", 200, None)),
            "full"
        );
        assert!(!gatehouse.log_request(record(&gatehouse, &key, "/v1/whoami", 200, None)));
        assert_eq!(gatehouse.request_logs_dropped(), 2);
        assert!(
            gatehouse
                .scrape_metrics()
                .await
                .unwrap()
                .contains("gatehouse_request_logs_suppressed_total 1")
        );
        assert!(
            gatehouse
                .scrape_metrics()
                .await
                .unwrap()
                .contains("gatehouse_request_logs_dropped_total 2")
        );
        assert_eq!(gatehouse.flush_request_logs().await.unwrap(), 4);
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
        assert_eq!(report.request_logs, 5);
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

/// Pages through the app's live side `limit` at a time with `filter`; answers the ids.
async fn every_page(
    gatehouse: &Gatehouse,
    owner: &gatehouse_domain::Actor,
    filter: &RequestLogFilter,
    limit: u32,
) -> Vec<gatehouse_model::RequestId> {
    let mut ids = Vec::new();
    let mut cursor = None;
    loop {
        let page = gatehouse
            .search_request_logs(
                owner,
                filter,
                &PageRequest {
                    limit: Some(limit),
                    cursor,
                },
            )
            .await
            .unwrap();
        assert!(page.data.len() <= limit as usize);
        ids.extend(page.data.into_iter().map(|entry| entry.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return ids,
        }
    }
}

/// An owner's app with two live keys, on a manual clock.
struct TwoCallers {
    gatehouse: Gatehouse,
    clock: Clock,
    owner: gatehouse_domain::Actor,
    app: gatehouse_model::AppId,
    first: gatehouse_model::CreatedApiKey,
    second: gatehouse_model::CreatedApiKey,
    first_key: Arc<KeyPrincipal>,
    second_key: Arc<KeyPrincipal>,
}

async fn two_live_callers(gatehouse: Gatehouse) -> TwoCallers {
    let clock = Clock::manual(1_780_000_000_000);
    let gatehouse = gatehouse.with_clock(clock.clone());
    let (_, owner, app) = owner_with_app(&gatehouse).await;
    let first = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
    let second = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
    let first_key = principal(&gatehouse, &first.plaintext).await;
    let second_key = principal(&gatehouse, &second.plaintext).await;
    TwoCallers {
        gatehouse,
        clock,
        owner,
        app,
        first,
        second,
        first_key,
        second_key,
    }
}

on_both_engines!(
    entries_logged_late_or_across_many_segments_come_back_newest_first_once,
    |gatehouse: Gatehouse| async move {
        let TwoCallers {
            gatehouse,
            clock,
            owner,
            app,
            first,
            second: _,
            first_key,
            second_key,
        } = two_live_callers(gatehouse).await;

        // A slow request starts now and is answered after two minutes of other calls:
        // its id is older than theirs, and it is written by a later flush.
        let slow = record(
            &gatehouse,
            &first_key,
            "/v1/webhook-endpoints/{id}/test",
            200,
            None,
        );
        // 2,500 calls, 48 ms apart, alternating keys, every 7th refused, flushed every
        // 1,250 (a minute of calls: two segments each, at most 1,000 entries per segment).
        let mut written = Vec::new();
        let mut overlapping = None;
        for call in 0..2_500u32 {
            clock.advance_ms(48);
            // A request of 5 s that starts before the first flush and is answered after
            // it: its segment starts below where the previous one ends.
            if call == 1_200 {
                overlapping = Some(record(&gatehouse, &second_key, "/v1/events", 202, None));
            }
            if call == 1_300 {
                assert!(gatehouse.log_request(overlapping.clone().unwrap()));
            }
            let key = if call % 2 == 0 {
                &first_key
            } else {
                &second_key
            };
            let entry = if call % 7 == 0 {
                record(&gatehouse, key, "/v1/apps", 429, Some("rate_limited"))
            } else {
                record(&gatehouse, key, "/v1/whoami", 200, None)
            };
            written.push((entry.id.clone(), call));
            assert!(gatehouse.log_request(entry));
            if call % 1_250 == 1_249 {
                let with_the_overlapping = usize::from(call == 2_499);
                assert_eq!(
                    gatehouse.flush_request_logs().await.unwrap(),
                    1_250 + with_the_overlapping
                );
            }
        }
        assert!(gatehouse.log_request(slow.clone()));
        clock.advance_ms(1);
        let last = record(&gatehouse, &second_key, "/v1/whoami", 200, None);
        assert!(gatehouse.log_request(last.clone()));
        assert_eq!(gatehouse.flush_request_logs().await.unwrap(), 2);

        // Newest first by id, every entry once, whatever the page size.
        let mut expected: Vec<_> = written.iter().map(|(id, _)| id.clone()).collect();
        expected.push(slow.id.clone());
        expected.push(last.id.clone());
        expected.push(overlapping.unwrap().id);
        expected.sort();
        expected.reverse();
        let of_app = RequestLogFilter {
            app_id: Some(app.clone()),
            ..Default::default()
        };
        assert_eq!(every_page(&gatehouse, &owner, &of_app, 100).await, expected);
        assert_eq!(every_page(&gatehouse, &owner, &of_app, 7).await, expected);
        assert_eq!(
            expected.last(),
            Some(&slow.id),
            "the slow request started first"
        );

        // Filters across segments: one key's refusals, newest first.
        let refusals_of_first = RequestLogFilter {
            key_id: Some(first.key.id.clone()),
            error_code: Some("rate_limited".into()),
            ..of_app.clone()
        };
        let mut expected_refusals: Vec<_> = written
            .iter()
            .filter(|(_, call)| call % 2 == 0 && call % 7 == 0)
            .map(|(id, _)| id.clone())
            .collect();
        expected_refusals.reverse();
        assert_eq!(
            every_page(&gatehouse, &owner, &refusals_of_first, 10).await,
            expected_refusals
        );
        let server_errors = RequestLogFilter {
            status_class: Some(StatusClass::ServerError),
            ..of_app.clone()
        };
        assert!(
            every_page(&gatehouse, &owner, &server_errors, 100)
                .await
                .is_empty()
        );
        // A time range in the middle: calls 1,000 to 1,099 (48 ms apart from +48 ms).
        let at = |call: i64| {
            chrono::DateTime::from_timestamp_millis(1_780_000_000_000 + 48 * (call + 1)).unwrap()
        };
        let middle = RequestLogFilter {
            from: Some(at(1_000)),
            to: Some(at(1_100)),
            ..of_app.clone()
        };
        let mut expected_middle: Vec<_> = written[1_000..1_100]
            .iter()
            .map(|(id, _)| id.clone())
            .collect();
        expected_middle.reverse();
        assert_eq!(
            every_page(&gatehouse, &owner, &middle, 30).await,
            expected_middle
        );
    }
);

on_both_engines!(
    a_failed_write_loses_nothing_and_writes_nothing_twice,
    |gatehouse: Gatehouse| async move {
        let (_, owner, app) = owner_with_app(&gatehouse).await;
        let caller = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        let key = principal(&gatehouse, &caller.plaintext).await;
        let pool = gatehouse.db().pool_for_tests();
        let logged: Vec<_> = (0..5)
            .map(|_| record(&gatehouse, &key, "/v1/whoami", 200, None))
            .collect();
        for entry in &logged {
            assert!(gatehouse.log_request(entry.clone()));
        }
        // The terms table is gone for a moment: the segment's transaction fails whole.
        sqlx::query("ALTER TABLE request_log_terms RENAME TO request_log_terms_away")
            .execute(pool)
            .await
            .unwrap();
        assert!(gatehouse.flush_request_logs().await.is_err());
        sqlx::query("ALTER TABLE request_log_terms_away RENAME TO request_log_terms")
            .execute(pool)
            .await
            .unwrap();
        let later = record(&gatehouse, &key, "/v1/apps", 200, None);
        assert!(gatehouse.log_request(later.clone()));
        assert_eq!(gatehouse.flush_request_logs().await.unwrap(), 6);
        assert_eq!(gatehouse.flush_request_logs().await.unwrap(), 0);
        let mut expected: Vec<_> = logged.iter().map(|entry| entry.id.clone()).collect();
        expected.push(later.id.clone());
        expected.sort();
        expected.reverse();
        assert_eq!(
            every_page(&gatehouse, &owner, &RequestLogFilter::default(), 100).await,
            expected
        );
        assert_eq!(gatehouse.request_logs_dropped(), 0);
    }
);

on_both_engines!(
    rows_of_the_first_form_are_rewritten_as_segments,
    |gatehouse: Gatehouse| async move {
        let clock = Clock::manual(1_780_000_000_000);
        let gatehouse = gatehouse.with_clock(clock.clone());
        let (_, owner, app) = owner_with_app(&gatehouse).await;
        let live = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        let test = create_key(&gatehouse, &owner, &app, KeyMode::Test, None).await;
        let pool = gatehouse.db().pool_for_tests();
        // 1,200 rows as the first form wrote them (a row per request), both modes.
        let mut ids = Vec::new();
        for row in 0..1_200i64 {
            let (key, mode) = if row % 3 == 0 {
                (&test, "test")
            } else {
                (&live, "live")
            };
            let id = gatehouse.fresh_request_id();
            clock.advance_ms(1);
            sqlx::query(
                "INSERT INTO request_logs (tenant_id, app_id, mode, id, key_id, occurred_at,
                     method, route, status, error_code, verify_code, latency_us, origin, client_ip)
                 VALUES ($1, $2, $3, $4, $5, $6, 'GET', '/v1/whoami', $7, $8, NULL, 90, $9, '192.0.2.7')",
            )
            .bind(owner.tenant_id.as_str())
            .bind(app.as_str())
            .bind(mode)
            .bind(id.as_str())
            .bind(key.key.id.as_str())
            .bind(1_780_000_000_000 + row)
            .bind(if row == 1_199 { 401 } else { 200 })
            .bind((row == 1_199).then_some("api_key_expired"))
            .bind((row == 1_199).then_some("https://shop.example"))
            .execute(pool)
            .await
            .unwrap();
            ids.push((id, mode));
        }
        assert_eq!(
            gatehouse.convert_legacy_request_logs().await.unwrap(),
            1_200
        );
        assert_eq!(gatehouse.convert_legacy_request_logs().await.unwrap(), 0);
        let (left,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM request_logs")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(left, 0);
        let mut live_ids: Vec<_> = ids
            .iter()
            .filter(|(_, mode)| *mode == "live")
            .map(|(id, _)| id.clone())
            .collect();
        live_ids.reverse();
        assert_eq!(
            every_page(&gatehouse, &owner, &RequestLogFilter::default(), 100).await,
            live_ids
        );
        let newest = gatehouse
            .search_request_logs(&owner, &RequestLogFilter::default(), &all())
            .await
            .unwrap()
            .data
            .remove(0);
        assert_eq!(newest.status, 401);
        assert_eq!(newest.error_code.as_deref(), Some("api_key_expired"));
        assert_eq!(newest.origin.as_deref(), Some("https://shop.example"));
        assert_eq!(newest.client_ip.as_deref(), Some("192.0.2.7"));
        assert_eq!(newest.key_id, live.key.id);
        assert_eq!(newest.occurred_at.timestamp_millis(), 1_780_000_001_199);
        let of_test = gatehouse
            .recent_requests_of_key(&owner, &test.key.id, 10)
            .await
            .unwrap();
        assert_eq!(of_test.len(), 10);
        assert!(of_test.iter().all(|entry| entry.mode == KeyMode::Test));
    }
);

on_both_engines!(
    a_search_reads_a_bounded_number_of_segments_and_goes_on_by_cursor,
    |gatehouse: Gatehouse| async move {
        let TwoCallers {
            gatehouse,
            clock,
            owner,
            app: _,
            first,
            second,
            first_key,
            second_key,
        } = two_live_callers(gatehouse).await;
        // 300 flushes, each with a success of the first key and a refusal of the second:
        // every segment has both terms, no entry has both.
        for _ in 0..300 {
            gatehouse.log_request(record(&gatehouse, &first_key, "/v1/whoami", 200, None));
            gatehouse.log_request(record(
                &gatehouse,
                &second_key,
                "/v1/whoami",
                429,
                Some("rate_limited"),
            ));
            assert_eq!(gatehouse.flush_request_logs().await.unwrap(), 2);
            clock.advance_ms(1_000);
        }
        let never = RequestLogFilter {
            key_id: Some(first.key.id.clone()),
            error_code: Some("rate_limited".into()),
            ..Default::default()
        };
        // The first page stops after 256 segments: nothing found yet, more to read.
        let page = gatehouse
            .search_request_logs(&owner, &never, &all())
            .await
            .unwrap();
        assert!(page.data.is_empty());
        assert!(page.has_more);
        let next = gatehouse
            .search_request_logs(
                &owner,
                &never,
                &PageRequest {
                    limit: None,
                    cursor: page.next_cursor,
                },
            )
            .await
            .unwrap();
        assert!(next.data.is_empty());
        assert!(!next.has_more && next.next_cursor.is_none());
        // Paging by such cursors still finds every entry once.
        let of_second = RequestLogFilter {
            key_id: Some(second.key.id.clone()),
            status_class: Some(StatusClass::Success),
            ..Default::default()
        };
        assert!(
            every_page(&gatehouse, &owner, &of_second, 100)
                .await
                .is_empty()
        );
        let refusals = RequestLogFilter {
            error_code: Some("rate_limited".into()),
            ..Default::default()
        };
        assert_eq!(
            every_page(&gatehouse, &owner, &refusals, 100).await.len(),
            300
        );
        assert_eq!(
            every_page(&gatehouse, &owner, &RequestLogFilter::default(), 7)
                .await
                .len(),
            600
        );
    }
);

on_both_engines!(
    a_revoked_keys_refused_calls_are_recorded_within_a_budget,
    |gatehouse: Gatehouse| async move {
        use gatehouse_domain::request_log::budget::REFUSALS_PER_KEY_PER_MINUTE;
        let clock = Clock::manual(1_780_000_000_000 - 1_780_000_000_000 % 60_000);
        let gatehouse = gatehouse.with_clock(clock.clone());
        let (_, owner, app) = owner_with_app(&gatehouse).await;
        let victim = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        let victim_key = principal(&gatehouse, &victim.plaintext).await;
        let healthy = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        let healthy_key = principal(&gatehouse, &healthy.plaintext).await;
        // Someone holding a revoked key floods verifications and calls with it.
        let refused = |route: &str| {
            let mut entry = record(&gatehouse, &victim_key, route, 401, Some("api_key_revoked"));
            entry.client_ip = Some("203.0.113.50".to_owned());
            entry
        };
        let kept = (0..200)
            .filter(|_| gatehouse.log_request(refused("/v1/whoami")))
            .count();
        assert_eq!(kept, REFUSALS_PER_KEY_PER_MINUTE as usize);
        // The tenant's other calls are recorded as usual.
        assert!(gatehouse.log_request(record(&gatehouse, &healthy_key, "/v1/whoami", 200, None)));
        // A minute on, the key's budget starts afresh.
        clock.advance_ms(60_000);
        assert!(gatehouse.log_request(refused("/v1/whoami")));
        assert_eq!(gatehouse.flush_request_logs().await.unwrap(), kept + 2);
        assert!(gatehouse.scrape_metrics().await.unwrap().contains(&format!(
            "gatehouse_request_logs_suppressed_total {}",
            200 - REFUSALS_PER_KEY_PER_MINUTE
        )));
    }
);

on_both_engines!(
    a_route_with_a_nul_byte_is_stored_and_keeps_no_other_segment_back,
    |gatehouse: Gatehouse| async move {
        let (_, owner, app) = owner_with_app(&gatehouse).await;
        let other_app = app_named(&gatehouse, &owner, "Billing").await;
        let caller = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        let other = create_key(&gatehouse, &owner, &other_app, KeyMode::Live, None).await;
        let caller = principal(&gatehouse, &caller.plaintext).await;
        let other = principal(&gatehouse, &other.plaintext).await;
        // Two segments (one per app) in one flush; one of them names a route with a NUL.
        assert!(gatehouse.log_request(record(&gatehouse, &caller, "/v1/who\0ami", 200, None)));
        assert!(gatehouse.log_request(record(&gatehouse, &other, "/v1/whoami", 200, None)));
        assert_eq!(gatehouse.flush_request_logs().await.unwrap(), 2);
        let page = gatehouse
            .search_request_logs(&owner, &RequestLogFilter::default(), &all())
            .await
            .unwrap();
        let mut routes: Vec<String> = page.data.iter().map(|entry| entry.route.clone()).collect();
        routes.sort();
        assert_eq!(routes, ["/v1/whoami", "/v1/who\u{FFFD}ami"]);
    }
);
