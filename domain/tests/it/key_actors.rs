//! What an API key may do when it is the actor (the `/v1` API's rules), access tokens,
//! and the usage counters, on both engines.

use crate::common::{actor_for, app_named, create_key as create, key_input, tenant_with_user};
use gatehouse_domain::admission::CallAttempt;
use gatehouse_domain::api_keys::KeyRefusal;
use gatehouse_domain::{CallOutcome, Gatehouse};
use gatehouse_model::{
    ApiKeyInput, ApiKeyUpdate, AppInput, ErrorCode, KeyMode, Role, RotationOverlap,
};
use sqlx::Row;

on_both_engines!(
    a_key_sees_only_its_own_app_and_mode,
    |gatehouse: Gatehouse| async move {
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let checkout = app_named(&gatehouse, &owner, "Checkout").await;
        let billing = app_named(&gatehouse, &owner, "Billing").await;
        let reader = create(
            &gatehouse,
            &owner,
            &checkout,
            KeyMode::Test,
            Some(&["api_keys:read"]),
        )
        .await;
        let live_sibling = create(&gatehouse, &owner, &checkout, KeyMode::Live, None).await;
        let test_sibling = create(&gatehouse, &owner, &checkout, KeyMode::Test, None).await;
        let other_app = create(&gatehouse, &owner, &billing, KeyMode::Test, None).await;
        let reader_actor = actor_for(&gatehouse, &reader.plaintext).await;

        let listed = gatehouse
            .list_api_keys(&reader_actor, &checkout, &Default::default())
            .await
            .unwrap()
            .data;
        let mut ids: Vec<_> = listed.iter().map(|item| item.key.id.clone()).collect();
        ids.sort();
        let mut expected = vec![reader.key.id.clone(), test_sibling.key.id.clone()];
        expected.sort();
        assert_eq!(ids, expected, "a test key lists only test keys of its app");
        for hidden in [&live_sibling.key.id, &other_app.key.id] {
            let error = gatehouse.api_key(&reader_actor, hidden).await.unwrap_err();
            assert_eq!(error.code(), ErrorCode::NotFound);
        }
        let error = gatehouse
            .list_api_keys(&reader_actor, &billing, &Default::default())
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::NotFound);
        // The dashboard user sees every key of the app.
        assert_eq!(
            gatehouse
                .list_api_keys(&owner, &checkout, &Default::default())
                .await
                .unwrap()
                .data
                .len(),
            3
        );
    }
);

on_both_engines!(
    scopes_are_enforced_and_named,
    |gatehouse: Gatehouse| async move {
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let app_id = app_named(&gatehouse, &owner, "Checkout").await;
        let reader = create(
            &gatehouse,
            &owner,
            &app_id,
            KeyMode::Live,
            Some(&["api_keys:read"]),
        )
        .await;
        let reader_actor = actor_for(&gatehouse, &reader.plaintext).await;
        let error = gatehouse
            .create_api_key(
                &reader_actor,
                &key_input(&app_id, KeyMode::Live, Some(&["api_keys:read"])),
            )
            .await
            .unwrap_err();
        let detail = error.to_detail();
        assert_eq!(detail.code, ErrorCode::InsufficientScope);
        assert_eq!(
            detail.details.required_scope.as_deref(),
            Some("api_keys:write")
        );
        assert!(
            detail.message.contains("api_keys:write"),
            "{}",
            detail.message
        );
        let error = gatehouse
            .list_apps(&reader_actor, &Default::default())
            .await
            .unwrap_err();
        assert_eq!(
            error.to_detail().details.required_scope.as_deref(),
            Some("apps:read")
        );
        for error in [
            gatehouse
                .revoke_api_key(&reader_actor, &reader.key.id)
                .await
                .unwrap_err(),
            gatehouse
                .rotate_api_key(&reader_actor, &reader.key.id, RotationOverlap::Now)
                .await
                .unwrap_err(),
        ] {
            assert_eq!(error.code(), ErrorCode::InsufficientScope);
        }
    }
);

on_both_engines!(
    a_key_cannot_mint_or_take_over_a_stronger_key,
    |gatehouse: Gatehouse| async move {
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let app_id = app_named(&gatehouse, &owner, "Checkout").await;
        let manager_key = create(
            &gatehouse,
            &owner,
            &app_id,
            KeyMode::Live,
            Some(&["api_keys:write", "imports:read"]),
        )
        .await;
        let secret = create(&gatehouse, &owner, &app_id, KeyMode::Live, None).await;
        let actor = actor_for(&gatehouse, &manager_key.plaintext).await;

        let outranked = |result: Result<_, gatehouse_domain::DomainError>| {
            let error = result.expect_err("refused");
            assert_eq!(error.code(), ErrorCode::InsufficientScope, "{error}");
        };
        outranked(
            gatehouse
                .create_api_key(&actor, &key_input(&app_id, KeyMode::Live, None))
                .await
                .map(|_| ()),
        );
        outranked(
            gatehouse
                .create_api_key(
                    &actor,
                    &key_input(&app_id, KeyMode::Live, Some(&["imports:write"])),
                )
                .await
                .map(|_| ()),
        );
        outranked(
            gatehouse
                .rotate_api_key(&actor, &secret.key.id, RotationOverlap::Now)
                .await
                .map(|_| ()),
        );
        outranked(
            gatehouse
                .duplicate_api_key(&actor, &secret.key.id)
                .await
                .map(|_| ()),
        );
        outranked(
            gatehouse
                .revoke_api_key(&actor, &secret.key.id)
                .await
                .map(|_| ()),
        );
        // Within its own access it works, and the audit trail names the key as actor.
        let minted = gatehouse
            .create_api_key(
                &actor,
                &key_input(&app_id, KeyMode::Live, Some(&["imports:read"])),
            )
            .await
            .unwrap();
        let widened = gatehouse
            .update_api_key(
                &actor,
                &minted.key.id,
                &ApiKeyUpdate {
                    name: Some("Wider".into()),
                    description: Some(String::new()),
                    scopes: Some(vec!["payouts:write".into()]),
                    rate_limit: None,
                },
            )
            .await;
        outranked(widened.map(|_| ()));
        let row = sqlx::query(
            "SELECT actor_type, actor_id, actor_label FROM audit_events
             WHERE event_type = 'api_key.created' ORDER BY occurred_at DESC, id DESC",
        )
        .fetch_all(gatehouse.db().pool_for_tests())
        .await
        .unwrap()
        .into_iter()
        .next()
        .unwrap();
        assert_eq!(row.get::<String, _>("actor_type"), "api_key");
        assert_eq!(
            row.get::<Option<String>, _>("actor_id").unwrap(),
            manager_key.key.id.to_string()
        );
        assert_eq!(
            row.get::<String, _>("actor_label"),
            manager_key.key.masked_key
        );
        // A live key cannot create test keys, nor keys for another app.
        let error = gatehouse
            .create_api_key(
                &actor,
                &key_input(&app_id, KeyMode::Test, Some(&["imports:read"])),
            )
            .await
            .unwrap_err();
        assert!(error.to_detail().field_message("mode").is_some());
        let billing = app_named(&gatehouse, &owner, "Billing").await;
        let error = gatehouse
            .create_api_key(
                &actor,
                &key_input(&billing, KeyMode::Live, Some(&["imports:read"])),
            )
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::NotFound);
    }
);

on_both_engines!(
    foreign_tenants_keys_are_not_found_for_every_action,
    |gatehouse: Gatehouse| async move {
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let (_, stranger) =
            tenant_with_user(&gatehouse, "owner@other.test", Role::Owner, true).await;
        let app_id = app_named(&gatehouse, &owner, "Checkout").await;
        let theirs = create(&gatehouse, &owner, &app_id, KeyMode::Live, None).await;
        let stranger_app = app_named(&gatehouse, &stranger, "Mine").await;
        let stranger_key = create(&gatehouse, &stranger, &stranger_app, KeyMode::Live, None).await;
        let stranger_key_actor = actor_for(&gatehouse, &stranger_key.plaintext).await;
        let id = &theirs.key.id;
        let update = ApiKeyUpdate {
            name: Some("Mine now".into()),
            description: Some(String::new()),
            scopes: None,
            rate_limit: None,
        };
        for actor in [&stranger, &stranger_key_actor] {
            let results = vec![
                gatehouse.api_key(actor, id).await.map(|_| ()),
                gatehouse
                    .update_api_key(actor, id, &update)
                    .await
                    .map(|_| ()),
                gatehouse
                    .set_api_key_enabled(actor, id, false)
                    .await
                    .map(|_| ()),
                gatehouse
                    .set_api_key_enabled(actor, id, true)
                    .await
                    .map(|_| ()),
                gatehouse
                    .rotate_api_key(actor, id, RotationOverlap::Now)
                    .await
                    .map(|_| ()),
                gatehouse.duplicate_api_key(actor, id).await.map(|_| ()),
                gatehouse.revoke_api_key(actor, id).await.map(|_| ()),
                gatehouse
                    .list_api_keys(actor, &app_id, &Default::default())
                    .await
                    .map(|_| ()),
            ];
            for result in results {
                assert_eq!(result.unwrap_err().code(), ErrorCode::NotFound);
            }
        }
        let still = gatehouse.api_key(&owner, id).await.unwrap();
        assert_eq!(still.name, theirs.key.name, "nothing changed");
    }
);

on_both_engines!(
    access_tokens_act_as_their_key_and_stop_with_it,
    |gatehouse: Gatehouse| async move {
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let app_id = app_named(&gatehouse, &owner, "Checkout").await;
        let key = create(
            &gatehouse,
            &owner,
            &app_id,
            KeyMode::Live,
            Some(&["api_keys:read"]),
        )
        .await;
        let key_actor = actor_for(&gatehouse, &key.plaintext).await;
        let token = gatehouse.issue_access_token(&key_actor).await.unwrap();
        assert!(token.access_token.starts_with("at_live_"));
        assert_eq!(token.expires_in, 15 * 60);
        assert_eq!(token.scopes, Some(vec!["api_keys:read".to_owned()]));
        let via_token = gatehouse
            .authenticate_api_key(&token.access_token)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(via_token.key_id, key.key.id);
        assert_eq!(via_token.scopes, key_actor.api_key().unwrap().scopes);
        let stored: Vec<(String,)> = sqlx::query_as("SELECT digest FROM access_tokens")
            .fetch_all(gatehouse.db().pool_for_tests())
            .await
            .unwrap();
        assert!(
            stored
                .iter()
                .all(|(digest,)| !digest.contains(&token.access_token[8..]))
        );

        // An expired token fails; so does every token of a disabled key.
        sqlx::query("UPDATE access_tokens SET expires_at = 1")
            .execute(gatehouse.db().pool_for_tests())
            .await
            .unwrap();
        // Changed by hand, behind Gatehouse's back: the cached token must be let go.
        gatehouse.forget_cached_keys();
        assert_eq!(
            gatehouse
                .authenticate_api_key(&token.access_token)
                .await
                .unwrap(),
            Err(KeyRefusal::Expired)
        );
        let fresh = gatehouse.issue_access_token(&key_actor).await.unwrap();
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
        let error = gatehouse.issue_access_token(&owner).await.unwrap_err();
        assert_eq!(error.code(), ErrorCode::CredentialNotAllowed);
    }
);

on_both_engines!(
    counted_calls_reach_the_list_after_a_flush,
    |gatehouse: Gatehouse| async move {
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let app_id = app_named(&gatehouse, &owner, "Checkout").await;
        let live = create(&gatehouse, &owner, &app_id, KeyMode::Live, None).await;
        let test = create(&gatehouse, &owner, &app_id, KeyMode::Test, None).await;
        let live_principal = actor_for(&gatehouse, &live.plaintext).await;
        let test_principal = actor_for(&gatehouse, &test.plaintext).await;
        for outcome in [
            CallOutcome::Succeeded,
            CallOutcome::Succeeded,
            CallOutcome::Succeeded,
            CallOutcome::Failed,
        ] {
            gatehouse.record_call(live_principal.api_key().unwrap(), outcome);
        }
        gatehouse.record_call(test_principal.api_key().unwrap(), CallOutcome::Succeeded);

        let before = gatehouse
            .list_api_keys(&owner, &app_id, &Default::default())
            .await
            .unwrap()
            .data;
        assert!(
            before
                .iter()
                .all(|item| item.successes_24h == 0 && item.key.last_used_at.is_none()),
            "nothing is written before the flush"
        );
        assert_eq!(gatehouse.flush_usage().await.unwrap(), 2);
        assert_eq!(
            gatehouse.flush_usage().await.unwrap(),
            0,
            "a flush writes once"
        );
        gatehouse.record_call(live_principal.api_key().unwrap(), CallOutcome::Failed);
        gatehouse.flush_usage().await.unwrap();

        let listed = gatehouse
            .list_api_keys(&owner, &app_id, &Default::default())
            .await
            .unwrap()
            .data;
        let row = |id| listed.iter().find(|item| &item.key.id == id).unwrap();
        let live_row = row(&live.key.id);
        assert_eq!((live_row.successes_24h, live_row.failures_24h), (3, 2));
        assert!(live_row.key.last_used_at.is_some());
        assert_eq!(
            (
                row(&test.key.id).successes_24h,
                row(&test.key.id).failures_24h
            ),
            (1, 0)
        );
        // Live calls count against the month; test calls do not.
        let overview = gatehouse.overview(&owner).await.unwrap();
        assert_eq!(overview.monthly_calls_used, 5);
    }
);

on_both_engines!(
    a_disabled_or_revoked_keys_refused_calls_are_its_failures_but_not_usage,
    |gatehouse: Gatehouse| async move {
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let app_id = app_named(&gatehouse, &owner, "Checkout").await;
        let key = create(&gatehouse, &owner, &app_id, KeyMode::Live, None).await;
        let call = || {
            gatehouse.admit(CallAttempt {
                credential: Some(&key.plaintext),
                ..Default::default()
            })
        };
        let admitted = call().await.expect("an enabled key is admitted");
        gatehouse.finish_call(&admitted, true);
        gatehouse
            .set_api_key_enabled(&owner, &key.key.id, false)
            .await
            .unwrap();
        for _ in 0..3 {
            assert!(call().await.is_err(), "a disabled key is refused");
        }
        gatehouse.revoke_api_key(&owner, &key.key.id).await.unwrap();
        assert!(call().await.is_err(), "a revoked key is refused");
        gatehouse.flush_usage().await.unwrap();

        let listed = gatehouse
            .list_api_keys(&owner, &app_id, &Default::default())
            .await
            .unwrap()
            .data;
        let row = listed
            .iter()
            .find(|item| item.key.id == key.key.id)
            .unwrap();
        assert_eq!(
            (row.successes_24h, row.failures_24h),
            (1, 4),
            "the four refused calls are the key's failures, as its Logs show them"
        );
        let overview = gatehouse.overview(&owner).await.unwrap();
        assert_eq!(
            overview.monthly_calls_used, 1,
            "refused calls are not usage: only the call that ran counts"
        );
    }
);

on_both_engines!(
    a_checksum_typo_costs_no_query,
    |gatehouse: Gatehouse| async move {
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let app_id = app_named(&gatehouse, &owner, "Checkout").await;
        let key = create(&gatehouse, &owner, &app_id, KeyMode::Live, None).await;
        let mut typo = key.plaintext.clone().into_bytes();
        typo[20] = if typo[20] == b'a' { b'b' } else { b'a' };
        let typo = String::from_utf8(typo).unwrap();
        // With the database closed, any query would fail: the typo is refused anyway.
        gatehouse.db().close().await;
        assert!(matches!(
            gatehouse.authenticate_api_key(&typo).await,
            Ok(Err(KeyRefusal::Malformed(_)))
        ));
        assert!(
            gatehouse
                .authenticate_api_key(&key.plaintext)
                .await
                .is_err(),
            "a well-formed key does need the database"
        );
    }
);

/// PostgreSQL with two instances: a key revoked on one is refused by the other, whose
/// cache held it, as soon as the change notification arrives (a revoked key must fail on
/// every instance; the bound is stated in `key_cache`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_on_one_instance_reaches_the_others_cache() {
    let db = crate::common::TestDb::new(gatehouse_domain::Engine::Postgres).await;
    let first = db.gatehouse.clone();
    let second = db.another_instance().await;
    assert!(
        !second.key_cache_active(),
        "no cache before the change feed is followed"
    );
    let follower = {
        let second = second.clone();
        tokio::spawn(async move {
            second
                .follow_key_changes(tokio_util::sync::CancellationToken::new())
                .await
        })
    };
    for _ in 0..100 {
        if second.key_cache_active() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(second.key_cache_active());

    let (_, owner) = tenant_with_user(&first, "owner@acme.test", Role::Owner, true).await;
    let app_id = app_named(&first, &owner, "Checkout").await;
    let key = create(&first, &owner, &app_id, KeyMode::Live, None).await;
    assert!(
        second
            .authenticate_api_key(&key.plaintext)
            .await
            .unwrap()
            .is_ok()
    );
    first.revoke_api_key(&owner, &key.key.id).await.unwrap();
    let started = std::time::Instant::now();
    loop {
        let verdict = second.authenticate_api_key(&key.plaintext).await.unwrap();
        if verdict == Err(KeyRefusal::Revoked) {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "the other instance still lets the revoked key in"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    follower.abort();
    second.db().close().await;
    db.finish().await;
}

on_both_engines!(
    a_cached_key_is_refused_from_the_next_request_after_each_change,
    |gatehouse: Gatehouse| async move {
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let app_id = app_named(&gatehouse, &owner, "Checkout").await;
        let key = create(
            &gatehouse,
            &owner,
            &app_id,
            KeyMode::Live,
            Some(&["api_keys:read"]),
        )
        .await;
        let id = &key.key.id;
        let check = || gatehouse.authenticate_api_key(&key.plaintext);
        assert!(check().await.unwrap().is_ok());
        assert!(
            check().await.unwrap().is_ok(),
            "the second look-up may be served from the cache"
        );
        gatehouse
            .set_api_key_enabled(&owner, id, false)
            .await
            .unwrap();
        assert_eq!(check().await.unwrap(), Err(KeyRefusal::Disabled));
        gatehouse
            .set_api_key_enabled(&owner, id, true)
            .await
            .unwrap();
        assert!(check().await.unwrap().is_ok());
        let updated = gatehouse
            .update_api_key(
                &owner,
                id,
                &ApiKeyUpdate {
                    name: Some("Renamed".into()),
                    description: Some(String::new()),
                    scopes: Some(vec!["imports:read".into()]),
                    rate_limit: None,
                },
            )
            .await
            .unwrap();
        let principal = check().await.unwrap().unwrap();
        assert_eq!(principal.scopes, updated.scopes, "new scopes apply at once");
        assert_eq!(
            gatehouse.api_key(&owner, id).await.unwrap().name,
            "Renamed",
            "reads see the change too"
        );
        gatehouse.revoke_api_key(&owner, id).await.unwrap();
        assert_eq!(check().await.unwrap(), Err(KeyRefusal::Revoked));
    }
);

on_both_engines!(
    allowed_origins_are_matched_exactly,
    |gatehouse: Gatehouse| async move {
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let input = AppInput {
            name: "Shop".into(),
            allowed_origins: vec![
                "https://shop-1.example".into(),
                "http://localhost:5173".into(),
            ],
            ..AppInput::default()
        };
        let app = gatehouse.create_app(&owner, &input).await.unwrap();
        let key = create(&gatehouse, &owner, &app.id, KeyMode::Live, None).await;
        let principal = gatehouse
            .authenticate_api_key(&key.plaintext)
            .await
            .unwrap()
            .unwrap();
        for (origin, allowed) in [
            ("https://shop-1.example", true),
            ("http://localhost:5173", true),
            // `_` and `%` are LIKE wildcards: they must match only themselves.
            ("https://shop_1.example", false),
            ("https://shop%.example", false),
            ("https://shop-1.example.evil", false),
            ("http://localhost:517", false),
            ("https://%", false),
            ("null", false),
        ] {
            assert_eq!(
                gatehouse.some_app_allows_origin(origin).await.unwrap(),
                allowed,
                "{origin}"
            );
            assert_eq!(principal.allows_origin(origin), allowed, "{origin}");
        }
    }
);

on_both_engines!(
    the_overview_counts_keys_and_warns_of_those_expiring_within_a_week,
    |gatehouse: Gatehouse| async move {
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let app_id = app_named(&gatehouse, &owner, "Checkout").await;
        let expiring_in = |days: i64, name: &str| ApiKeyInput {
            name: name.into(),
            expires_at: Some(chrono::Utc::now() + chrono::Duration::days(days)),
            expiry_days: Some(days),
            rate_limit: None,
            ..key_input(&app_id, KeyMode::Live, None)
        };
        let soon = gatehouse
            .create_api_key(&owner, &expiring_in(3, "Soon"))
            .await
            .unwrap();
        gatehouse
            .create_api_key(&owner, &expiring_in(30, "Later"))
            .await
            .unwrap();
        let revoked = gatehouse
            .create_api_key(&owner, &expiring_in(2, "Gone"))
            .await
            .unwrap();
        gatehouse
            .revoke_api_key(&owner, &revoked.key.id)
            .await
            .unwrap();
        create(&gatehouse, &owner, &app_id, KeyMode::Test, None).await;

        let overview = gatehouse.overview(&owner).await.unwrap();
        assert_eq!(overview.api_key_count, 3, "revoked keys are not counted");
        let names: Vec<_> = overview
            .expiring_keys
            .iter()
            .map(|key| key.name.as_str())
            .collect();
        assert_eq!(names, ["Soon"]);
        assert_eq!(overview.expiring_keys[0].id, soon.key.id);
        assert_eq!(overview.expiring_keys[0].app_name, "Checkout");
        let listed = gatehouse
            .list_api_keys(&owner, &app_id, &Default::default())
            .await
            .unwrap()
            .data;
        let flagged: Vec<_> = listed
            .iter()
            .filter(|item| item.expiring_soon)
            .map(|item| item.key.name.as_str())
            .collect();
        assert_eq!(flagged, ["Soon"], "the list flags the same keys");
    }
);
