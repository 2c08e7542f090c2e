//! Quotas and rate limits on both engines: the monthly limit holds
//! exactly under concurrency, on one instance and across two; test calls never count;
//! the operator's tenant changes are honoured once applied; a key's rate limit refuses
//! what is over it and cannot be shed by the keys it creates; usage per day.

use std::sync::Arc;

use crate::common::{app_named, create_key, key_input, owner_with_app, tenant_with_user};
use gatehouse_domain::tenants::TenantUpdate;
use gatehouse_domain::{CallOutcome, Clock, DomainError, Gatehouse};
use gatehouse_model::{
    ErrorCode, KeyMode, KeyRateLimit, LimitPolicy, RatePeriod, Role, SubscriptionState, TenantId,
    UsageQuery, VerifyCode, VerifyKeyRequest,
};

async fn set_limit(gatehouse: &Gatehouse, tenant_id: &TenantId, limit: i64) {
    gatehouse
        .operator()
        .update_tenant(
            tenant_id,
            &TenantUpdate {
                monthly_call_limit: Some(limit),
                ..TenantUpdate::default()
            },
        )
        .await
        .unwrap();
}

/// A manual clock set to an RFC 3339 time.
fn clock_at(time: &str) -> Clock {
    Clock::manual(
        chrono::DateTime::parse_from_rfc3339(time)
            .unwrap()
            .timestamp_millis(),
    )
}

/// Runs `calls` admissions of the key at once; answers (admitted, refused for usage).
async fn admit_concurrently(
    instances: &[Gatehouse],
    plaintext: &str,
    calls: usize,
) -> (usize, usize) {
    let mut tasks = Vec::new();
    for call in 0..calls {
        let gatehouse = instances[call % instances.len()].clone();
        let plaintext = plaintext.to_owned();
        tasks.push(tokio::spawn(async move {
            let key = gatehouse
                .authenticate_api_key(&plaintext)
                .await
                .unwrap()
                .unwrap();
            gatehouse.admit_under_limits(&key, 1).await
        }));
    }
    let (mut admitted, mut refused) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => admitted += 1,
            Err(DomainError::UsageExceeded(status)) => {
                assert_eq!((status.policy, status.remaining), (LimitPolicy::Monthly, 0));
                assert!(status.reset_seconds > 0);
                refused += 1;
            }
            Err(other) => panic!("unexpected refusal {other:?}"),
        }
    }
    (admitted, refused)
}

on_both_engines!(
    the_monthly_limit_holds_exactly_under_concurrency,
    |gatehouse: Gatehouse| async move {
        let (tenant_id, owner, app) = owner_with_app(&gatehouse).await;
        set_limit(&gatehouse, &tenant_id, 40).await;
        let live = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        let (admitted, refused) =
            admit_concurrently(std::slice::from_ref(&gatehouse), &live.plaintext, 80).await;
        assert_eq!(
            (admitted, refused),
            (40, 40),
            "exactly the limit is admitted"
        );

        // Test keys never count against the monthly limit, even when it is used up.
        let test = create_key(&gatehouse, &owner, &app, KeyMode::Test, None).await;
        let test_key = gatehouse
            .authenticate_api_key(&test.plaintext)
            .await
            .unwrap()
            .unwrap();
        let admission = gatehouse.admit_under_limits(&test_key, 1).await.unwrap();
        assert_eq!(admission.monthly, None);

        // Verification is a platform call like any other.
        let verdict = gatehouse
            .verify_api_key(&VerifyKeyRequest {
                key: live.plaintext.clone(),
                scope: None,
            })
            .await
            .unwrap();
        assert_eq!(
            (verdict.valid, verdict.code),
            (false, VerifyCode::UsageExceeded)
        );
        // Refused calls are not counted, so the usage shows exactly the limit.
        gatehouse.flush_usage().await.unwrap();
        let overview = gatehouse.overview(&owner).await.unwrap();
        assert_eq!(
            overview.monthly_calls_used, 0,
            "admission alone counts nothing"
        );
        assert_eq!(overview.monthly_call_limit, 40);
    }
);

on_both_engines!(
    two_instances_share_the_limit_exactly,
    |gatehouse: Gatehouse| async move {
        let (tenant_id, owner, app) = owner_with_app(&gatehouse).await;
        set_limit(&gatehouse, &tenant_id, 60).await;
        let live = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        let other = another_instance_of(&gatehouse).await;
        let instances = [gatehouse.clone(), other.clone()];
        let (admitted, refused) = admit_concurrently(&instances, &live.plaintext, 120).await;
        assert_eq!((admitted, refused), (60, 60));
        other.db().close().await;
    }
);

/// A second instance on the same database (through the test database's URL).
async fn another_instance_of(gatehouse: &Gatehouse) -> Gatehouse {
    Gatehouse::new(gatehouse.db().reopen_for_tests().await.unwrap())
        .with_webhooks(crate::common::webhook_settings())
}

on_both_engines!(
    allowance_given_back_serves_another_instance,
    |gatehouse: Gatehouse| async move {
        let (tenant_id, owner, app) = owner_with_app(&gatehouse).await;
        set_limit(&gatehouse, &tenant_id, 800).await;
        let live = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        // One call takes a block (an eighth of what is left) for this instance.
        let (admitted, _) =
            admit_concurrently(std::slice::from_ref(&gatehouse), &live.plaintext, 1).await;
        assert_eq!(admitted, 1);
        // The other instance's clock is driven, to pass its 1 s trust in "used up".
        let other_clock = Clock::manual(gatehouse.now_ms());
        let other = another_instance_of(&gatehouse)
            .await
            .with_clock(other_clock.clone());
        // While this instance holds its block, the other cannot reach the whole rest.
        let (admitted_elsewhere, _) =
            admit_concurrently(std::slice::from_ref(&other), &live.plaintext, 799).await;
        assert_eq!(admitted_elsewhere, 799 - 99, "a block of 100 is held here");
        // Given back (idle, shutdown or a tenant change), the rest serves the other.
        assert_eq!(gatehouse.release_unused_quota(true).await.unwrap(), 99);
        other_clock.advance_ms(1_001);
        let (admitted_after, refused_after) =
            admit_concurrently(std::slice::from_ref(&other), &live.plaintext, 120).await;
        assert_eq!((admitted_after, refused_after), (99, 21));
        other.db().close().await;
    }
);

on_both_engines!(
    the_operators_tenant_changes_hold_once_applied,
    |gatehouse: Gatehouse| async move {
        let (tenant_id, owner, app) = owner_with_app(&gatehouse).await;
        set_limit(&gatehouse, &tenant_id, 5).await;
        let live = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        gatehouse.apply_tenant_changes().await.unwrap();
        let one = std::slice::from_ref(&gatehouse);
        assert_eq!(admit_concurrently(one, &live.plaintext, 8).await, (5, 3));

        // The operator's CLI is another process on the same database.
        let cli = another_instance_of(&gatehouse).await;
        set_limit(&cli, &tenant_id, 8).await;
        assert_eq!(gatehouse.apply_tenant_changes().await.unwrap(), 1);
        assert_eq!(admit_concurrently(one, &live.plaintext, 5).await, (3, 2));

        cli.operator()
            .update_tenant(
                &tenant_id,
                &TenantUpdate {
                    subscription_state: Some(SubscriptionState::Canceled),
                    monthly_call_limit: Some(1_000),
                    ..TenantUpdate::default()
                },
            )
            .await
            .unwrap();
        // Until applied, the cached standing stands; once applied, the key stops.
        gatehouse.apply_tenant_changes().await.unwrap();
        let verdict = gatehouse
            .verify_api_key(&VerifyKeyRequest {
                key: live.plaintext.clone(),
                scope: None,
            })
            .await
            .unwrap();
        // A canceled subscription suspends the tenant.
        assert_eq!(verdict.code, VerifyCode::TenantSuspended);
        assert_eq!(
            gatehouse.apply_tenant_changes().await.unwrap(),
            0,
            "applied once"
        );
        let refused = cli
            .operator()
            .update_tenant(
                &tenant_id,
                &TenantUpdate {
                    monthly_call_limit: Some(-1),
                    ..TenantUpdate::default()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(refused.code(), ErrorCode::ValidationFailed);
        cli.db().close().await;
    }
);

on_both_engines!(
    a_new_billing_window_admits_again,
    |gatehouse: Gatehouse| async move {
        let clock = clock_at("2026-01-31T23:59:00Z");
        let gatehouse = gatehouse.with_clock(clock.clone());
        let (tenant_id, owner, app) = owner_with_app(&gatehouse).await;
        set_limit(&gatehouse, &tenant_id, 3).await;
        let live = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        let one = std::slice::from_ref(&gatehouse);
        assert_eq!(admit_concurrently(one, &live.plaintext, 5).await, (3, 2));
        clock.advance_ms(2 * 60_000);
        assert_eq!(admit_concurrently(one, &live.plaintext, 5).await, (3, 2));
    }
);

on_both_engines!(
    a_keys_rate_limit_refuses_over_it_and_rolls_with_its_window,
    |gatehouse: Gatehouse| async move {
        let clock = Clock::manual(1_800_000_000_000);
        let gatehouse = gatehouse.with_clock(clock.clone());
        let (_, owner, app) = owner_with_app(&gatehouse).await;
        let three_a_minute = KeyRateLimit {
            requests: 3,
            per: RatePeriod::Minute,
        };
        let created = gatehouse
            .create_api_key(
                &owner,
                &gatehouse_model::ApiKeyInput {
                    rate_limit: Some(three_a_minute),
                    ..key_input(&app, KeyMode::Test, None)
                },
            )
            .await
            .unwrap();
        assert_eq!(created.key.rate_limit, Some(three_a_minute));
        let key = gatehouse
            .authenticate_api_key(&created.plaintext)
            .await
            .unwrap()
            .unwrap();
        for remaining in [2, 1, 0] {
            let admission = gatehouse.admit_under_limits(&key, 1).await.unwrap();
            assert_eq!(admission.key_rate.unwrap().remaining, remaining);
        }
        let Err(DomainError::RateLimited(status)) = gatehouse.admit_under_limits(&key, 1).await
        else {
            panic!("the fourth call in the minute is refused");
        };
        assert_eq!((status.limit, status.window_seconds), (3, 60));
        assert_eq!(
            gatehouse
                .verify_api_key(&VerifyKeyRequest {
                    key: created.plaintext.clone(),
                    scope: None,
                })
                .await
                .unwrap()
                .code,
            VerifyCode::RateLimited
        );
        clock.advance_ms(60_000);
        assert!(
            gatehouse.admit_under_limits(&key, 1).await.is_ok(),
            "the next minute"
        );

        // Edited: the new limit holds from the next call; `null` removes it.
        let raised = gatehouse
            .update_api_key(
                &owner,
                &created.key.id,
                &gatehouse_model::ApiKeyUpdate {
                    rate_limit: Some(None),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(raised.rate_limit, None);
        let key = gatehouse
            .authenticate_api_key(&created.plaintext)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            gatehouse
                .admit_under_limits(&key, 1)
                .await
                .unwrap()
                .key_rate,
            None
        );

        let refused = gatehouse
            .create_api_key(
                &owner,
                &gatehouse_model::ApiKeyInput {
                    rate_limit: Some(KeyRateLimit {
                        requests: 0,
                        per: RatePeriod::Second,
                    }),
                    ..key_input(&app, KeyMode::Test, None)
                },
            )
            .await
            .unwrap_err();
        let detail = refused.to_detail();
        assert!(detail.field_message("rate_limit").is_some(), "{detail:?}");
    }
);

on_both_engines!(
    a_rate_limited_key_cannot_create_or_loosen_a_key_past_its_own_limit,
    |gatehouse: Gatehouse| async move {
        let (_, owner, app) = owner_with_app(&gatehouse).await;
        let ten_a_second = KeyRateLimit {
            requests: 10,
            per: RatePeriod::Second,
        };
        let limited = gatehouse
            .create_api_key(
                &owner,
                &gatehouse_model::ApiKeyInput {
                    rate_limit: Some(ten_a_second),
                    ..key_input(&app, KeyMode::Live, Some(&["api_keys:write"]))
                },
            )
            .await
            .unwrap();
        let actor = gatehouse
            .api_key_actor(Some(&limited.plaintext))
            .await
            .unwrap();
        let wanting = |rate_limit| gatehouse_model::ApiKeyInput {
            rate_limit,
            ..key_input(&app, KeyMode::Live, Some(&["api_keys:read"]))
        };
        for looser in [
            None,
            Some(KeyRateLimit {
                requests: 601,
                per: RatePeriod::Minute,
            }),
        ] {
            let error = gatehouse
                .create_api_key(&actor, &wanting(looser))
                .await
                .unwrap_err();
            assert_eq!(error.code(), ErrorCode::InsufficientScope, "{looser:?}");
        }
        let tighter = gatehouse
            .create_api_key(
                &actor,
                &wanting(Some(KeyRateLimit {
                    requests: 600,
                    per: RatePeriod::Minute,
                })),
            )
            .await
            .unwrap();
        // Nor may it lift the limit of a key it manages.
        let lifted = gatehouse
            .update_api_key(
                &actor,
                &tighter.key.id,
                &gatehouse_model::ApiKeyUpdate {
                    rate_limit: Some(None),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(lifted.code(), ErrorCode::InsufficientScope);
    }
);

on_both_engines!(
    usage_per_day_is_dense_split_and_confined,
    |gatehouse: Gatehouse| async move {
        let clock = clock_at("2026-03-10T12:00:00Z");
        let gatehouse = gatehouse.with_clock(clock.clone());
        let (_, owner, app) = owner_with_app(&gatehouse).await;
        let reader = gatehouse
            .create_api_key(
                &owner,
                &key_input(&app, KeyMode::Live, Some(&["usage:read"])),
            )
            .await
            .unwrap();
        let other = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        let test = create_key(&gatehouse, &owner, &app, KeyMode::Test, None).await;
        let second_app = app_named(&gatehouse, &owner, "Billing").await;
        let elsewhere = create_key(&gatehouse, &owner, &second_app, KeyMode::Live, None).await;
        let principal = |plaintext: String| {
            let gatehouse = gatehouse.clone();
            async move {
                Arc::new(
                    gatehouse
                        .authenticate_api_key(&plaintext)
                        .await
                        .unwrap()
                        .unwrap(),
                )
            }
        };
        let reader_key = principal(reader.plaintext.clone()).await;
        let other_key = principal(other.plaintext.clone()).await;
        let test_key = principal(test.plaintext.clone()).await;
        let elsewhere_key = principal(elsewhere.plaintext.clone()).await;
        gatehouse.record_call(&elsewhere_key, CallOutcome::Succeeded);
        gatehouse.record_call(&elsewhere_key, CallOutcome::Failed);
        for _ in 0..3 {
            gatehouse.record_call(&reader_key, CallOutcome::Succeeded);
        }
        gatehouse.record_call(&other_key, CallOutcome::Failed);
        gatehouse.record_call(&test_key, CallOutcome::Succeeded);
        clock.advance_ms(86_400_000);
        gatehouse.record_call(&other_key, CallOutcome::Succeeded);
        gatehouse.flush_usage().await.unwrap();

        let march = gatehouse
            .usage_report(&owner, &UsageQuery::default())
            .await
            .unwrap();
        assert_eq!(
            (march.from.as_str(), march.to.as_str()),
            ("2026-03-01", "2026-03-31")
        );
        assert_eq!(
            march.days.len(),
            31,
            "every day of the window, empty ones as zeros"
        );
        // The whole tenant: both apps.
        let tenth = &march.days[9];
        assert_eq!(
            (tenth.day.as_str(), tenth.successes, tenth.failures),
            ("2026-03-10", 4, 2)
        );
        assert_eq!((march.days[10].successes, march.days[10].failures), (1, 0));
        assert_eq!((march.total_successes, march.total_failures), (5, 2));
        // Each app its own.
        for (app_id, expected) in [(&app, (4, 1)), (&second_app, (1, 1))] {
            let query = UsageQuery {
                app_id: Some(app_id.clone()),
                ..UsageQuery::default()
            };
            let report = gatehouse.usage_report(&owner, &query).await.unwrap();
            assert_eq!((report.total_successes, report.total_failures), expected);
            assert_eq!(report.days.len(), 31);
        }

        let one_key = UsageQuery {
            key_id: Some(other.key.id.clone()),
            from: Some("2026-03-10".into()),
            to: Some("2026-03-11".into()),
            ..UsageQuery::default()
        };
        let report = gatehouse.usage_report(&owner, &one_key).await.unwrap();
        assert_eq!((report.total_successes, report.total_failures), (1, 1));
        let test_mode = UsageQuery {
            mode: Some(KeyMode::Test),
            ..UsageQuery::default()
        };
        assert_eq!(
            gatehouse
                .usage_report(&owner, &test_mode)
                .await
                .unwrap()
                .total_successes,
            1,
            "live and test stay apart"
        );

        // A key reads its own app and mode only.
        let key_actor = gatehouse
            .api_key_actor(Some(&reader.plaintext))
            .await
            .unwrap();
        let own = gatehouse
            .usage_report(&key_actor, &UsageQuery::default())
            .await
            .unwrap();
        assert_eq!((own.total_successes, own.app_id.as_ref()), (4, Some(&app)));
        let wrong_mode = gatehouse
            .usage_report(&key_actor, &test_mode)
            .await
            .unwrap_err();
        assert_eq!(wrong_mode.code(), ErrorCode::ValidationFailed);

        // Another tenant sees nothing of it, and its ids are not found.
        let (_, stranger) =
            tenant_with_user(&gatehouse, "stranger@other.test", Role::Owner, true).await;
        let theirs = gatehouse
            .usage_report(&stranger, &UsageQuery::default())
            .await
            .unwrap();
        assert_eq!((theirs.total_successes, theirs.total_failures), (0, 0));
        for query in [
            one_key.clone(),
            UsageQuery {
                app_id: Some(app.clone()),
                ..UsageQuery::default()
            },
        ] {
            let error = gatehouse.usage_report(&stranger, &query).await.unwrap_err();
            assert_eq!(error.code(), ErrorCode::NotFound);
        }

        for (query, field) in [
            (
                UsageQuery {
                    from: Some("March".into()),
                    ..UsageQuery::default()
                },
                "from",
            ),
            (
                UsageQuery {
                    from: Some("2026-03-10".into()),
                    to: Some("2026-03-01".into()),
                    ..UsageQuery::default()
                },
                "to",
            ),
            (
                UsageQuery {
                    from: Some("2020-01-01".into()),
                    to: Some("2026-03-01".into()),
                    ..UsageQuery::default()
                },
                "to",
            ),
        ] {
            let error = gatehouse.usage_report(&owner, &query).await.unwrap_err();
            assert!(
                error.to_detail().field_message(field).is_some(),
                "{query:?}"
            );
        }
    }
);

on_both_engines!(
    a_keys_activity_counts_its_hours_and_days_with_refusals_as_failures,
    |gatehouse: Gatehouse| async move {
        // Forty days before 2026-03-10T12:30Z, where the activity is read.
        let clock = clock_at("2026-01-29T12:30:00Z");
        let gatehouse = gatehouse.with_clock(clock.clone());
        let (_, owner, app) = owner_with_app(&gatehouse).await;
        let mine = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        let other = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        let key = Arc::new(
            gatehouse
                .authenticate_api_key(&mine.plaintext)
                .await
                .unwrap()
                .unwrap(),
        );
        let other_key = Arc::new(
            gatehouse
                .authenticate_api_key(&other.plaintext)
                .await
                .unwrap()
                .unwrap(),
        );
        let calls = |outcome: CallOutcome, count: usize| {
            for _ in 0..count {
                gatehouse.record_call(&key, outcome);
            }
        };
        calls(CallOutcome::Succeeded, 1); // 40 days ago: outside both windows
        clock.advance_ms(37 * 86_400_000); // 3 days ago
        calls(CallOutcome::Succeeded, 2);
        calls(CallOutcome::Failed, 1);
        clock.advance_ms(3 * 86_400_000 - 2 * 3_600_000); // 2 hours ago
        calls(CallOutcome::Succeeded, 1);
        calls(CallOutcome::Refused, 1);
        clock.advance_ms(2 * 3_600_000); // now, 12:30
        calls(CallOutcome::Succeeded, 4);
        gatehouse.record_call(&other_key, CallOutcome::Succeeded);
        gatehouse.flush_usage().await.unwrap();

        let activity = gatehouse.key_activity(&owner, &mine.key.id).await.unwrap();
        let figures = |slots: &[gatehouse_model::ActivitySlot]| -> Vec<(String, i64, i64)> {
            slots
                .iter()
                .filter(|slot| slot.successes + slot.failures > 0)
                .map(|slot| (slot.start.to_rfc3339(), slot.successes, slot.failures))
                .collect()
        };
        assert_eq!(activity.hours.len(), 24);
        assert_eq!(
            activity.hours[0].start.to_rfc3339(),
            "2026-03-09T13:00:00+00:00"
        );
        assert_eq!(
            figures(&activity.hours),
            [
                ("2026-03-10T10:00:00+00:00".to_owned(), 1, 1),
                ("2026-03-10T12:00:00+00:00".to_owned(), 4, 0),
            ]
        );
        assert_eq!(activity.days.len(), 30);
        assert_eq!(
            activity.days[0].start.to_rfc3339(),
            "2026-02-09T00:00:00+00:00"
        );
        assert_eq!(
            figures(&activity.days),
            [
                ("2026-03-07T00:00:00+00:00".to_owned(), 2, 1),
                ("2026-03-10T00:00:00+00:00".to_owned(), 5, 1),
            ]
        );
        // Another tenant does not find the key.
        let (_, stranger) =
            tenant_with_user(&gatehouse, "eve@elsewhere.test", Role::Owner, true).await;
        assert!(matches!(
            gatehouse.key_activity(&stranger, &mine.key.id).await,
            Err(DomainError::NotFound(_))
        ));
    }
);
