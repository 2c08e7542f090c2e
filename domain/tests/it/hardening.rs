//! The security review's findings, each closed and tested on both engines: tokens that
//! cannot renew themselves or outlive their secret, credentials that cannot gain
//! lifetime, keys confined to their own app, sign-in throttling under concurrency,
//! idempotent usage flushes, the rolling billing window, verification of a tenant's
//! standing, bounded growth, origins answered from memory, and the one commit path.

use crate::common::{
    actor_for, app_named, create_key, key_input, owner_with_app, tenant_with_user,
};
use chrono::TimeZone;
use gatehouse_domain::api_keys::KeyRefusal;
use gatehouse_domain::{CallOutcome, Clock, DomainError, Gatehouse};
use gatehouse_model::{
    ApiKeyInput, AppUpdate, ErrorCode, KeyMode, Role, RotationOverlap, VerifyCode, VerifyKeyRequest,
};
use sqlx::Row;

fn code<T: std::fmt::Debug>(result: Result<T, DomainError>) -> ErrorCode {
    result.unwrap_err().code()
}

async fn count(gatehouse: &Gatehouse, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(gatehouse.db().pool_for_tests())
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

async fn verify(gatehouse: &Gatehouse, key: &str) -> VerifyCode {
    gatehouse
        .verify_api_key(&VerifyKeyRequest {
            key: key.to_owned(),
            scope: None,
        })
        .await
        .unwrap()
        .code
}

on_both_engines!(
    a_token_cannot_renew_itself_outlive_its_secret_or_manage_its_key,
    |gatehouse: Gatehouse| async move {
        let (_, owner, app) = owner_with_app(&gatehouse).await;
        let key = create_key(
            &gatehouse,
            &owner,
            &app,
            KeyMode::Live,
            Some(&["api_keys:write"]),
        )
        .await;
        let key_actor = actor_for(&gatehouse, &key.plaintext).await;
        let token = gatehouse.issue_access_token(&key_actor).await.unwrap();
        let token_actor = actor_for(&gatehouse, &token.access_token).await;

        assert_eq!(
            code(gatehouse.issue_access_token(&token_actor).await),
            ErrorCode::CredentialNotAllowed,
            "a token is never exchanged for another"
        );
        for refused in [
            gatehouse
                .rotate_api_key(&token_actor, &key.key.id, RotationOverlap::OneDay)
                .await
                .map(|_| ()),
            gatehouse
                .set_api_key_enabled(&token_actor, &key.key.id, false)
                .await
                .map(|_| ()),
            gatehouse
                .revoke_api_key(&token_actor, &key.key.id)
                .await
                .map(|_| ()),
        ] {
            assert_eq!(code(refused), ErrorCode::CredentialNotAllowed);
        }

        // Rotating with a 1-hour overlap keeps the old secret's tokens for that hour
        // at most; rotating it out now ends them at once.
        gatehouse
            .rotate_api_key(&owner, &key.key.id, RotationOverlap::OneHour)
            .await
            .unwrap();
        assert!(
            gatehouse
                .authenticate_api_key(&token.access_token)
                .await
                .unwrap()
                .is_ok()
        );
        let rotated = gatehouse
            .rotate_api_key(&owner, &key.key.id, RotationOverlap::Now)
            .await
            .unwrap();
        assert_eq!(
            gatehouse
                .authenticate_api_key(&token.access_token)
                .await
                .unwrap(),
            Err(KeyRefusal::Expired),
            "the token died with the secret it came from"
        );
        // Tokens from the new secret work, and die with a disable.
        let new_actor = actor_for(&gatehouse, &rotated.plaintext).await;
        let fresh = gatehouse.issue_access_token(&new_actor).await.unwrap();
        gatehouse
            .set_api_key_enabled(&owner, &key.key.id, false)
            .await
            .unwrap();
        assert_eq!(
            gatehouse
                .authenticate_api_key(&fresh.access_token)
                .await
                .unwrap(),
            Err(KeyRefusal::Disabled)
        );

        let issued = gatehouse
            .recent_audit_events(&owner, 100)
            .await
            .unwrap()
            .into_iter()
            .filter(|event| event.event_type == "access_token.issued")
            .count();
        assert_eq!(issued, 2, "every exchange is audited");
    }
);

on_both_engines!(
    a_key_holds_a_bounded_number_of_tokens_even_under_concurrency,
    |gatehouse: Gatehouse| async move {
        let (_, owner, app) = owner_with_app(&gatehouse).await;
        let key = create_key(&gatehouse, &owner, &app, KeyMode::Test, None).await;
        let key_actor = actor_for(&gatehouse, &key.plaintext).await;
        let exchanges = (0..30).map(|_| {
            let gatehouse = gatehouse.clone();
            let key_actor = key_actor.clone();
            tokio::spawn(async move { gatehouse.issue_access_token(&key_actor).await })
        });
        let mut issued = 0;
        let mut refused = 0;
        for exchange in exchanges {
            match exchange.await.unwrap() {
                Ok(_) => issued += 1,
                Err(error) => {
                    assert_eq!(error.code(), ErrorCode::LimitReached, "{error}");
                    refused += 1;
                }
            }
        }
        assert_eq!(
            (issued, refused),
            (
                gatehouse_domain::api_keys::tokens::MAX_LIVE_TOKENS_PER_KEY,
                30 - gatehouse_domain::api_keys::tokens::MAX_LIVE_TOKENS_PER_KEY
            )
        );
        assert_eq!(
            count(
                &gatehouse,
                "SELECT COUNT(*) FROM audit_events WHERE event_type = 'access_token.issued'"
            )
            .await,
            issued,
            "a refused exchange leaves no audit row: it was rolled back whole"
        );
    }
);

on_both_engines!(
    no_credential_creates_or_takes_over_a_longer_lived_key,
    |gatehouse: Gatehouse| async move {
        let clock = Clock::manual(chrono::Utc::now().timestamp_millis());
        let gatehouse = gatehouse.with_clock(clock.clone());
        let (_, owner, app) = owner_with_app(&gatehouse).await;
        let short_lived = gatehouse
            .create_api_key(
                &owner,
                &ApiKeyInput {
                    expiry_days: Some(1),
                    rate_limit: None,
                    ..key_input(&app, KeyMode::Live, None)
                },
            )
            .await
            .unwrap();
        let ends = short_lived.key.expires_at.unwrap();
        let actor = actor_for(&gatehouse, &short_lived.plaintext).await;
        for (label, expiry) in [
            ("never", None),
            ("later", Some(ends + chrono::Duration::hours(1))),
        ] {
            let input = ApiKeyInput {
                expires_at: expiry,
                ..key_input(&app, KeyMode::Live, None)
            };
            assert_eq!(
                code(gatehouse.create_api_key(&actor, &input).await),
                ErrorCode::InsufficientScope,
                "{label}"
            );
        }
        let within = ApiKeyInput {
            expires_at: Some(ends - chrono::Duration::hours(1)),
            ..key_input(&app, KeyMode::Live, None)
        };
        gatehouse.create_api_key(&actor, &within).await.unwrap();

        // Duplicating or rotating a key that never expires would hand out a longer life.
        let forever = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        assert_eq!(
            code(gatehouse.duplicate_api_key(&actor, &forever.key.id).await),
            ErrorCode::InsufficientScope
        );
        assert_eq!(
            code(
                gatehouse
                    .rotate_api_key(&actor, &forever.key.id, RotationOverlap::Now)
                    .await
            ),
            ErrorCode::InsufficientScope
        );

        // A token lives 15 minutes: it cannot create a key that lives a day.
        let forever_actor = actor_for(&gatehouse, &forever.plaintext).await;
        let token = gatehouse.issue_access_token(&forever_actor).await.unwrap();
        let token_actor = actor_for(&gatehouse, &token.access_token).await;
        let day = ApiKeyInput {
            expiry_days: Some(1),
            rate_limit: None,
            ..key_input(&app, KeyMode::Live, None)
        };
        assert_eq!(
            code(gatehouse.create_api_key(&token_actor, &day).await),
            ErrorCode::InsufficientScope
        );

        // Once the short-lived key's day is over, it authenticates no more.
        clock.advance_ms(86_400_000 + 1_000);
        assert_eq!(
            gatehouse
                .authenticate_api_key(&short_lived.plaintext)
                .await
                .unwrap(),
            Err(KeyRefusal::Expired)
        );
    }
);

on_both_engines!(
    a_key_sees_and_changes_only_its_own_app,
    |gatehouse: Gatehouse| async move {
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let checkout = app_named(&gatehouse, &owner, "Checkout").await;
        let billing = app_named(&gatehouse, &owner, "Billing").await;
        let writes_apps = Some(&["apps:write"][..]);
        let test_key = create_key(&gatehouse, &owner, &checkout, KeyMode::Test, writes_apps).await;
        let live_key = create_key(&gatehouse, &owner, &checkout, KeyMode::Live, writes_apps).await;
        let test_actor = actor_for(&gatehouse, &test_key.plaintext).await;
        let live_actor = actor_for(&gatehouse, &live_key.plaintext).await;

        let listed = gatehouse
            .list_apps(&test_actor, &Default::default())
            .await
            .unwrap()
            .data;
        assert_eq!(
            listed.iter().map(|app| &app.id).collect::<Vec<_>>(),
            [&checkout]
        );
        assert_eq!(
            code(gatehouse.app(&test_actor, &billing).await),
            ErrorCode::NotFound
        );
        let hijack = AppUpdate {
            allowed_origins: Some(vec!["https://evil.example".into()]),
            ..AppUpdate::default()
        };
        for actor in [&test_actor, &live_actor] {
            assert_eq!(
                code(gatehouse.update_app(actor, &billing, &hijack).await),
                ErrorCode::NotFound
            );
        }
        assert_eq!(
            code(gatehouse.update_app(&test_actor, &checkout, &hijack).await),
            ErrorCode::CredentialNotAllowed,
            "test keys never change what live traffic uses"
        );
        let renamed = gatehouse
            .update_app(
                &live_actor,
                &checkout,
                &AppUpdate {
                    name: Some("Checkout v2".into()),
                    ..AppUpdate::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(renamed.name, "Checkout v2");
        assert!(
            renamed.allowed_origins.is_empty(),
            "fields not sent are kept"
        );
        assert_eq!(
            code(
                gatehouse
                    .create_app(
                        &live_actor,
                        &gatehouse_model::AppInput {
                            name: "Another".into(),
                            ..Default::default()
                        }
                    )
                    .await
            ),
            ErrorCode::CredentialNotAllowed
        );
        assert_eq!(
            gatehouse
                .list_apps(&owner, &Default::default())
                .await
                .unwrap()
                .data
                .len(),
            2
        );
    }
);

on_both_engines!(
    fifty_concurrent_wrong_guesses_check_at_most_five_passwords,
    |gatehouse: Gatehouse| async move {
        tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let guesses = (0..50).map(|attempt| {
            let gatehouse = gatehouse.clone();
            tokio::spawn(async move {
                gatehouse
                    .sign_in("owner@acme.test", &format!("wrong guess {attempt}"), None)
                    .await
                    .map(|_| ())
            })
        });
        let mut checked = 0;
        let mut throttled = 0;
        for guess in guesses {
            match guess.await.unwrap().unwrap_err() {
                DomainError::InvalidCredentials => checked += 1,
                DomainError::SignInThrottled { .. } => throttled += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(
            (checked, throttled),
            (
                gatehouse_domain::auth::MAX_FAILURES,
                50 - gatehouse_domain::auth::MAX_FAILURES
            )
        );
        assert!(matches!(
            gatehouse
                .sign_in("owner@acme.test", crate::common::PASSWORD, None)
                .await,
            Err(DomainError::SignInThrottled { .. })
        ));
        let failures_audited = count(
            &gatehouse,
            "SELECT COUNT(*) FROM audit_events WHERE event_type = 'user.sign_in_failed'",
        )
        .await;
        assert_eq!(failures_audited, gatehouse_domain::auth::MAX_FAILURES);
    }
);

on_both_engines!(
    a_flood_locks_its_address_out_not_the_owner,
    |gatehouse: Gatehouse| async move {
        use gatehouse_domain::auth::{MAX_ATTEMPTS_PER_ADDRESS, MAX_FAILURES};
        tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let attacker: std::net::IpAddr = "203.0.113.66".parse().unwrap();
        let owner_at_home: std::net::IpAddr = "198.51.100.7".parse().unwrap();
        // The attacker guesses the owner's password until locked out of the account.
        for attempt in 0..MAX_FAILURES + 3 {
            let refused = gatehouse
                .sign_in(
                    "owner@acme.test",
                    &format!("wrong guess {attempt}"),
                    Some(attacker),
                )
                .await
                .unwrap_err();
            let expected = if attempt < MAX_FAILURES {
                ErrorCode::InvalidCredentials
            } else {
                ErrorCode::SignInThrottled
            };
            assert_eq!(refused.code(), expected, "attempt {attempt}");
        }
        // Even the right password is refused from the attacker's address...
        assert!(matches!(
            gatehouse
                .sign_in("owner@acme.test", crate::common::PASSWORD, Some(attacker))
                .await,
            Err(DomainError::SignInThrottled { .. })
        ));
        // ...while the owner, from their own address, signs in.
        gatehouse
            .sign_in(
                "owner@acme.test",
                crate::common::PASSWORD,
                Some(owner_at_home),
            )
            .await
            .expect("the owner is not locked out by someone else's guesses");

        // Spraying many accounts from one address is cut off after the address's
        // attempts, before any more passwords are checked.
        let sprayer: std::net::IpAddr = "2001:db8:6:6::1".parse().unwrap();
        let neighbour_in_same_64: std::net::IpAddr = "2001:db8:6:6::2".parse().unwrap();
        let mut checked = 0;
        let mut throttled = 0;
        for index in 0..MAX_ATTEMPTS_PER_ADDRESS + 10 {
            match gatehouse
                .sign_in(
                    &format!("user{index}@acme.test"),
                    "guess guess guess",
                    Some(sprayer),
                )
                .await
                .unwrap_err()
                .code()
            {
                ErrorCode::InvalidCredentials => checked += 1,
                ErrorCode::SignInThrottled => throttled += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!((checked, throttled), (MAX_ATTEMPTS_PER_ADDRESS, 10));
        // The address's /64 is one network: its neighbour is throttled too, even with
        // the right password; the owner's own address is not.
        assert!(matches!(
            gatehouse
                .sign_in(
                    "owner@acme.test",
                    crate::common::PASSWORD,
                    Some(neighbour_in_same_64)
                )
                .await,
            Err(DomainError::SignInThrottled { .. })
        ));
        gatehouse
            .sign_in(
                "owner@acme.test",
                crate::common::PASSWORD,
                Some(owner_at_home),
            )
            .await
            .unwrap();
    }
);

on_both_engines!(
    unknown_emails_write_no_audit_rows_and_expired_rows_are_purged,
    |gatehouse: Gatehouse| async move {
        let clock = Clock::manual(chrono::Utc::now().timestamp_millis());
        let gatehouse = gatehouse.with_clock(clock.clone());
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let audit_rows = count(&gatehouse, "SELECT COUNT(*) FROM audit_events").await;
        for index in 0..20 {
            let email = format!("nobody{index}@acme.test");
            assert!(
                gatehouse
                    .sign_in(&email, "guess guess guess", None)
                    .await
                    .is_err()
            );
        }
        assert_eq!(
            count(&gatehouse, "SELECT COUNT(*) FROM audit_events").await,
            audit_rows,
            "failed sign-ins for unknown emails are counted, not audited"
        );
        let app = app_named(&gatehouse, &owner, "Checkout").await;
        let key = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        let key_actor = actor_for(&gatehouse, &key.plaintext).await;
        gatehouse.issue_access_token(&key_actor).await.unwrap();

        assert_eq!(
            gatehouse.purge_expired().await.unwrap(),
            Default::default(),
            "nothing has expired yet"
        );
        clock.advance_ms(13 * 3_600_000);
        let report = gatehouse.purge_expired().await.unwrap();
        assert_eq!(report.sessions, 1, "the owner's 12-hour session");
        assert_eq!(report.access_tokens, 1);
        // The 20 emails' failures, and the one address they all came from.
        assert_eq!(report.sign_in_counters, 21);
        for table in ["sessions", "access_tokens", "sign_in_throttle"] {
            assert_eq!(
                count(&gatehouse, &format!("SELECT COUNT(*) FROM {table}")).await,
                0,
                "{table}"
            );
        }
    }
);

on_both_engines!(
    a_batch_whose_commit_answer_was_lost_is_not_counted_twice,
    |gatehouse: Gatehouse| async move {
        let (_, owner, app) = owner_with_app(&gatehouse).await;
        let key = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        let principal = gatehouse
            .authenticate_api_key(&key.plaintext)
            .await
            .unwrap()
            .unwrap();
        for _ in 0..7 {
            gatehouse.record_call(&principal, CallOutcome::Succeeded);
        }
        gatehouse.flush_usage_losing_the_answer().await.unwrap();
        gatehouse.record_call(&principal, CallOutcome::Failed);
        gatehouse.flush_usage().await.unwrap();
        gatehouse.flush_usage().await.unwrap();
        let calls = count(
            &gatehouse,
            "SELECT CAST(SUM(successes + failures) AS BIGINT) FROM usage_daily",
        )
        .await;
        assert_eq!(calls, 8, "7 successes once, and the failure after them");
    }
);

on_both_engines!(
    the_billing_window_rolls_over_at_the_month_boundary,
    |gatehouse: Gatehouse| async move {
        let end_of_january = chrono::Utc
            .with_ymd_and_hms(2026, 1, 31, 23, 59, 0)
            .unwrap()
            .timestamp_millis();
        let clock = Clock::manual(end_of_january);
        let gatehouse = gatehouse.with_clock(clock.clone());
        let (tenant_id, owner, app) = owner_with_app(&gatehouse).await;
        let key = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        let principal = gatehouse
            .authenticate_api_key(&key.plaintext)
            .await
            .unwrap()
            .unwrap();
        for _ in 0..3 {
            gatehouse.record_call(&principal, CallOutcome::Succeeded);
        }
        gatehouse.flush_usage().await.unwrap();
        let january = gatehouse.overview(&owner).await.unwrap();
        assert_eq!(january.monthly_calls_used, 3);
        assert_eq!(
            january.billing_window_start.to_rfc3339(),
            "2026-01-01T00:00:00+00:00"
        );
        let limit = gatehouse
            .tenant(&tenant_id)
            .await
            .unwrap()
            .monthly_call_limit;

        clock.advance_ms(2 * 60_000);
        let february = gatehouse.overview(&owner).await.unwrap();
        assert_eq!(february.monthly_calls_used, 0);
        assert_eq!(
            february.billing_window_start.to_rfc3339(),
            "2026-02-01T00:00:00+00:00"
        );
        assert_eq!(
            february.billing_window_end.to_rfc3339(),
            "2026-03-01T00:00:00+00:00"
        );
        let verdict = gatehouse
            .verify_api_key(&VerifyKeyRequest {
                key: key.plaintext.clone(),
                scope: None,
            })
            .await
            .unwrap();
        assert_eq!(verdict.remaining_quota, Some(limit - 1), "after this call");
    }
);

on_both_engines!(
    keys_of_a_tenant_without_the_module_or_a_subscription_are_not_valid,
    |gatehouse: Gatehouse| async move {
        let (tenant_id, owner, app) = owner_with_app(&gatehouse).await;
        let key = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        assert_eq!(verify(&gatehouse, &key.plaintext).await, VerifyCode::Valid);
        let set_tenant = |column: &'static str, value: &'static str| {
            let gatehouse = gatehouse.clone();
            let tenant_id = tenant_id.clone();
            async move {
                sqlx::query(&format!("UPDATE tenants SET {column} = $1 WHERE id = $2"))
                    .bind(value)
                    .bind(tenant_id.as_str())
                    .execute(gatehouse.db().pool_for_tests())
                    .await
                    .unwrap();
                // The operator's CLI will do this through the running server.
                gatehouse.forget_cached_keys();
            }
        };
        set_tenant("subscription_state", "past_due").await;
        assert_eq!(
            verify(&gatehouse, &key.plaintext).await,
            VerifyCode::SubscriptionInactive
        );
        let actor = actor_for(&gatehouse, &key.plaintext).await;
        assert_eq!(
            code(gatehouse.list_apps(&actor, &Default::default()).await),
            ErrorCode::SubscriptionInactive
        );
        // Canceled is more than unpaid: the tenant is suspended.
        set_tenant("subscription_state", "canceled").await;
        assert_eq!(
            verify(&gatehouse, &key.plaintext).await,
            VerifyCode::TenantSuspended
        );
        let actor = actor_for(&gatehouse, &key.plaintext).await;
        assert_eq!(
            code(gatehouse.list_apps(&actor, &Default::default()).await),
            ErrorCode::TenantSuspended
        );
        set_tenant("subscription_state", "active").await;
        set_tenant("modules", "").await;
        assert_eq!(
            verify(&gatehouse, &key.plaintext).await,
            VerifyCode::PlatformApiDisabled
        );
    }
);

on_both_engines!(
    preflights_and_origin_checks_read_no_table,
    |gatehouse: Gatehouse| async move {
        // On PostgreSQL the key cache works only while the change feed is followed.
        let stop = tokio_util::sync::CancellationToken::new();
        tokio::spawn({
            let gatehouse = gatehouse.clone();
            let stop = stop.clone();
            async move { gatehouse.follow_key_changes(stop).await }
        });
        while !gatehouse.key_cache_active() {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let app = gatehouse
            .create_app(
                &owner,
                &gatehouse_model::AppInput {
                    name: "Shop".into(),
                    allowed_origins: vec!["https://shop.example".into()],
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let key = create_key(&gatehouse, &owner, &app.id, KeyMode::Live, None).await;
        let principal = gatehouse
            .authenticate_api_key(&key.plaintext)
            .await
            .unwrap()
            .unwrap();
        gatehouse
            .update_app(
                &owner,
                &app.id,
                &AppUpdate {
                    allowed_origins: Some(vec!["https://new.shop.example".into()]),
                    ..AppUpdate::default()
                },
            )
            .await
            .unwrap();
        assert!(principal.allows_origin("https://shop.example"));
        let reloaded = gatehouse
            .authenticate_api_key(&key.plaintext)
            .await
            .unwrap()
            .unwrap();
        assert!(
            reloaded.allows_origin("https://new.shop.example")
                && !reloaded.allows_origin("https://shop.example"),
            "an app change forgets its keys' cached origins"
        );
        // With the database gone, the index and the cached key still answer.
        gatehouse.db().close().await;
        assert!(
            gatehouse
                .some_app_allows_origin("https://new.shop.example")
                .await
                .unwrap()
        );
        assert!(
            !gatehouse
                .some_app_allows_origin("https://shop.example")
                .await
                .unwrap()
        );
        let cached = gatehouse
            .authenticate_api_key(&key.plaintext)
            .await
            .unwrap()
            .unwrap();
        assert!(cached.allows_origin("https://new.shop.example"));
        stop.cancel();
    }
);

on_both_engines!(
    every_change_commits_its_audit_row_and_outbox_event_together,
    |gatehouse: Gatehouse| async move {
        let (_, owner, app) = owner_with_app(&gatehouse).await;
        let key = create_key(&gatehouse, &owner, &app, KeyMode::Test, None).await;
        gatehouse
            .update_api_key(
                &owner,
                &key.key.id,
                &gatehouse_model::ApiKeyUpdate {
                    name: Some("Renamed".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        gatehouse
            .rotate_api_key(&owner, &key.key.id, RotationOverlap::Now)
            .await
            .unwrap();
        gatehouse.revoke_api_key(&owner, &key.key.id).await.unwrap();
        let outbox: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT event_type, mode, payload FROM outbox_events ORDER BY occurred_at, id",
        )
        .fetch_all(gatehouse.db().pool_for_tests())
        .await
        .unwrap();
        let types: Vec<&str> = outbox.iter().map(|(kind, _, _)| kind.as_str()).collect();
        assert_eq!(
            types,
            ["api_key.created", "api_key.rotated", "api_key.revoked"],
            "edits are audited only; these three are delivered"
        );
        assert!(outbox.iter().all(|(_, mode, _)| mode == "test"));
        assert!(
            outbox
                .iter()
                .all(|(_, _, payload)| !payload.contains(&key.plaintext[8..])),
            "no secret in an event"
        );
        // A refused change (a revoked key cannot be rotated) writes neither.
        let before = count(&gatehouse, "SELECT COUNT(*) FROM audit_events").await;
        assert_eq!(
            code(
                gatehouse
                    .rotate_api_key(&owner, &key.key.id, RotationOverlap::Now)
                    .await
            ),
            ErrorCode::Conflict
        );
        assert_eq!(
            count(&gatehouse, "SELECT COUNT(*) FROM audit_events").await,
            before
        );
        assert_eq!(
            count(&gatehouse, "SELECT COUNT(*) FROM outbox_events").await,
            3
        );
    }
);

on_both_engines!(
    huge_inputs_get_small_answers,
    |gatehouse: Gatehouse| async move {
        let (_, owner, app) = owner_with_app(&gatehouse).await;
        let many_bad: Vec<String> = (0..5_000)
            .map(|index| format!("bad scope {index} {}", "x".repeat(300)))
            .collect();
        let a_few_bad: Vec<String> = (0..90).map(|index| format!("nope{index}:read")).collect();
        for scopes in [many_bad, a_few_bad] {
            let input = ApiKeyInput {
                scopes,
                ..key_input(&app, KeyMode::Live, Some(&[]))
            };
            let error = gatehouse.create_api_key(&owner, &input).await.unwrap_err();
            let answer = serde_json::to_string(&error.to_detail()).unwrap();
            assert_eq!(error.code(), ErrorCode::ValidationFailed);
            assert!(answer.len() < 1_024, "{} bytes: {answer}", answer.len());
        }
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_trail_refuses_truncate_on_postgres() {
    let db = crate::common::TestDb::new(gatehouse_domain::Engine::Postgres).await;
    let gatehouse = db.gatehouse.clone();
    tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
    let truncated = sqlx::query("TRUNCATE audit_events")
        .execute(gatehouse.db().pool_for_tests())
        .await;
    assert!(truncated.is_err(), "TRUNCATE must be refused");
    assert!(count(&gatehouse, "SELECT COUNT(*) FROM audit_events").await > 0);
    db.finish().await;
}

/// PostgreSQL only (SQLite is one process): an instance whose change feed dropped
/// must not trust what it cached, since the notifications sent meanwhile are lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_change_feed_empties_the_cache() {
    let db = crate::common::TestDb::new(gatehouse_domain::Engine::Postgres).await;
    let first = db.gatehouse.clone();
    let second = db.another_instance().await;
    let stop = tokio_util::sync::CancellationToken::new();
    let follower = {
        let second = second.clone();
        let stop = stop.clone();
        tokio::spawn(async move { second.follow_key_changes(stop).await })
    };
    let wait_for = |condition: &dyn Fn() -> bool| {
        let started = std::time::Instant::now();
        while !condition() && started.elapsed() < std::time::Duration::from_secs(10) {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        condition()
    };
    assert!(wait_for(&|| second.key_cache_active()));
    let (_, owner) = tenant_with_user(&first, "owner@acme.test", Role::Owner, true).await;
    let app = app_named(&first, &owner, "Checkout").await;
    let key = create_key(&first, &owner, &app, KeyMode::Live, None).await;
    assert!(
        second
            .authenticate_api_key(&key.plaintext)
            .await
            .unwrap()
            .is_ok()
    );

    // Cut the second instance's listener, and revoke while it is away.
    let terminated: Vec<(bool,)> = sqlx::query_as(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
    )
    .bind(second.listener_name())
    .fetch_all(first.db().pool_for_tests())
    .await
    .unwrap();
    assert_eq!(terminated, [(true,)]);
    first.revoke_api_key(&owner, &key.key.id).await.unwrap();
    assert!(wait_for(&|| second.change_feed_reconnects() >= 1));
    assert_eq!(
        second.authenticate_api_key(&key.plaintext).await.unwrap(),
        Err(KeyRefusal::Revoked)
    );
    assert!(
        wait_for(&|| second.key_cache_active()),
        "the feed comes back"
    );
    stop.cancel();
    follower.await.unwrap();
    db.finish().await;
}

on_both_engines!(
    lists_page_by_cursor_and_inserts_do_not_shift_pages,
    |gatehouse: Gatehouse| async move {
        let (_, owner, app) = owner_with_app(&gatehouse).await;
        let mut made = Vec::new();
        for _ in 0..5 {
            made.push(
                create_key(&gatehouse, &owner, &app, KeyMode::Live, None)
                    .await
                    .key
                    .id,
            );
        }
        let page = |cursor: Option<String>| {
            let gatehouse = gatehouse.clone();
            let owner = owner.clone();
            let app = app.clone();
            async move {
                gatehouse
                    .list_api_keys(
                        &owner,
                        &app,
                        &gatehouse_model::PageRequest {
                            limit: Some(2),
                            cursor,
                        },
                    )
                    .await
                    .unwrap()
            }
        };
        let first = page(None).await;
        assert_eq!(
            first
                .data
                .iter()
                .map(|item| &item.key.id)
                .collect::<Vec<_>>(),
            [&made[4], &made[3]],
            "newest first"
        );
        assert!(first.has_more);
        // A key made while paging appears on no later page and shifts nothing.
        create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        let second = page(first.next_cursor.clone()).await;
        assert_eq!(
            second
                .data
                .iter()
                .map(|item| &item.key.id)
                .collect::<Vec<_>>(),
            [&made[2], &made[1]]
        );
        let last = page(second.next_cursor.clone()).await;
        assert_eq!(
            last.data
                .iter()
                .map(|item| &item.key.id)
                .collect::<Vec<_>>(),
            [&made[0]]
        );
        assert!(!last.has_more && last.next_cursor.is_none());

        for (limit, cursor) in [
            (Some(0), None),
            (Some(101), None),
            (None, Some("not-a-key-id".to_owned())),
        ] {
            let refused = gatehouse
                .list_api_keys(
                    &owner,
                    &app,
                    &gatehouse_model::PageRequest { limit, cursor },
                )
                .await;
            assert_eq!(code(refused), ErrorCode::ValidationFailed);
        }
        let apps = gatehouse
            .list_apps(
                &owner,
                &gatehouse_model::PageRequest {
                    limit: Some(1),
                    cursor: None,
                },
            )
            .await
            .unwrap();
        assert_eq!((apps.data.len(), apps.has_more), (1, false));
    }
);

on_both_engines!(
    a_tenant_is_capped_in_apps_endpoints_and_test_events,
    |gatehouse: Gatehouse| async move {
        use gatehouse_domain::tenants::TenantUpdate;
        let (tenant_id, owner, app) = owner_with_app(&gatehouse).await;
        gatehouse
            .operator()
            .update_tenant(
                &tenant_id,
                &TenantUpdate {
                    max_apps: Some(4),
                    max_webhook_endpoints: Some(3),
                    monthly_test_events: Some(5),
                    ..TenantUpdate::default()
                },
            )
            .await
            .unwrap();
        // 20 concurrent creates: exactly the cap is created, the rest refused.
        let creates = (0..20).map(|index| {
            let (gatehouse, owner) = (gatehouse.clone(), owner.clone());
            tokio::spawn(async move {
                let input = gatehouse_model::AppInput {
                    name: format!("App {index}"),
                    ..Default::default()
                };
                gatehouse.create_app(&owner, &input).await.map(|_| ())
            })
        });
        let mut created = 0;
        for create in creates {
            match create.await.unwrap() {
                Ok(()) => created += 1,
                Err(error) => assert_eq!(code(Err::<(), _>(error)), ErrorCode::LimitReached),
            }
        }
        assert_eq!(created, 3, "4 apps in all with the first");

        // Endpoints are capped across the tenant's apps.
        let key = create_key(&gatehouse, &owner, &app, KeyMode::Test, None).await;
        let tester = actor_for(&gatehouse, &key.plaintext).await;
        let endpoint = |index: usize| gatehouse_model::EndpointInput {
            app_id: Some(app.clone()),
            url: format!("http://127.0.0.1:9/hook{index}"),
            description: String::new(),
            mode: KeyMode::Test,
            event_families: vec!["*".to_owned()],
            rate_limit_per_second: None,
        };
        for index in 0..3 {
            gatehouse
                .create_webhook_endpoint(&tester, &endpoint(index))
                .await
                .unwrap();
        }
        let refused = gatehouse
            .create_webhook_endpoint(&tester, &endpoint(3))
            .await;
        assert_eq!(code(refused), ErrorCode::LimitReached);

        // Test-mode events are metered against their own monthly limit.
        let event = gatehouse_model::EventInput {
            event_type: "payment_intent.created".to_owned(),
            data: serde_json::json!({ "id": "pi_1" }),
        };
        for _ in 0..5 {
            gatehouse.send_event(&tester, &event, None).await.unwrap();
        }
        let refused = gatehouse.send_event(&tester, &event, None).await;
        assert_eq!(code(refused), ErrorCode::LimitReached);
        // Live events are billed as calls instead and are not held by it.
        let live_key = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        let live = actor_for(&gatehouse, &live_key.plaintext).await;
        gatehouse.send_event(&live, &event, None).await.unwrap();
    }
);
