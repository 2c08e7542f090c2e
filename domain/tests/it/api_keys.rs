//! API key lifecycle rules on both engines.

use crate::common::{app_named, restricted, tenant_with_user};
use gatehouse_domain::Gatehouse;
use gatehouse_domain::api_keys::KeyRefusal;
use gatehouse_domain::api_keys::MalformedKey;
use gatehouse_model::{ErrorCode, KeyMode, KeyStatus, KeyType, Role, VerifyCode};

on_both_engines!(
    created_keys_authenticate_and_store_only_a_digest,
    |gatehouse: Gatehouse| async move {
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let app_id = app_named(&gatehouse, &owner, "Checkout").await;
        let created = gatehouse
            .create_api_key(
                &owner,
                &restricted(&app_id, &["payment_intents:read", "imports:write"]),
            )
            .await
            .unwrap();
        assert!(created.plaintext.starts_with("rk_live_"));
        assert_eq!(
            created.key.masked_key,
            format!("{}…", &created.plaintext[..12])
        );
        assert_eq!(created.key.status, KeyStatus::Enabled);
        let principal = gatehouse
            .authenticate_api_key(&created.plaintext)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(principal.key_id, created.key.id);
        assert_eq!(
            principal.scopes.unwrap(),
            ["payment_intents:read", "imports:write"]
        );

        // The plaintext is stored nowhere: not in the keys, not in the secrets, not in the audit trail.
        for table in ["api_keys", "api_key_secrets", "audit_events"] {
            let rows = sqlx::query(&format!("SELECT * FROM {table}"))
                .fetch_all(gatehouse.db().pool_for_tests())
                .await
                .unwrap();
            for row in rows {
                use sqlx::Row;
                for index in 0..row.len() {
                    let value: Option<String> = row.try_get(index).ok().flatten();
                    assert!(
                        !value.unwrap_or_default().contains(&created.plaintext[8..]),
                        "{table} holds the secret"
                    );
                }
            }
        }
    }
);

on_both_engines!(
    disable_enable_and_revoke_take_effect_at_once,
    |gatehouse: Gatehouse| async move {
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let app_id = app_named(&gatehouse, &owner, "Checkout").await;
        let created = gatehouse
            .create_api_key(&owner, &restricted(&app_id, &["imports:read"]))
            .await
            .unwrap();
        let id = &created.key.id;
        gatehouse
            .set_api_key_enabled(&owner, id, false)
            .await
            .unwrap();
        assert_eq!(
            gatehouse
                .authenticate_api_key(&created.plaintext)
                .await
                .unwrap(),
            Err(KeyRefusal::Disabled)
        );
        gatehouse
            .set_api_key_enabled(&owner, id, true)
            .await
            .unwrap();
        assert!(
            gatehouse
                .authenticate_api_key(&created.plaintext)
                .await
                .unwrap()
                .is_ok()
        );
        let revoked = gatehouse.revoke_api_key(&owner, id).await.unwrap();
        assert_eq!(revoked.status, KeyStatus::Revoked);
        assert_eq!(
            gatehouse
                .authenticate_api_key(&created.plaintext)
                .await
                .unwrap(),
            Err(KeyRefusal::Revoked)
        );
        let again = gatehouse
            .set_api_key_enabled(&owner, id, true)
            .await
            .unwrap_err();
        assert_eq!(again.code(), ErrorCode::Conflict, "revoke is final");
        let listed = gatehouse
            .list_api_keys(&owner, &app_id, &Default::default())
            .await
            .unwrap()
            .data;
        assert_eq!(
            listed[0].key.status,
            KeyStatus::Revoked,
            "a revoked key stays in the list"
        );
    }
);

on_both_engines!(
    expired_and_malformed_keys_fail,
    |gatehouse: Gatehouse| async move {
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let app_id = app_named(&gatehouse, &owner, "Checkout").await;
        let mut input = restricted(&app_id, &["imports:read"]);
        input.expires_at = Some(chrono::Utc::now() + chrono::Duration::milliseconds(300));
        let created = gatehouse.create_api_key(&owner, &input).await.unwrap();
        assert!(
            gatehouse
                .authenticate_api_key(&created.plaintext)
                .await
                .unwrap()
                .is_ok()
        );
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        assert_eq!(
            gatehouse
                .authenticate_api_key(&created.plaintext)
                .await
                .unwrap(),
            Err(KeyRefusal::Expired)
        );
        assert_eq!(
            gatehouse
                .api_key(&owner, &created.key.id)
                .await
                .unwrap()
                .status,
            KeyStatus::Expired
        );

        // The last character changed (to another one: the key may end with an `x`).
        let (kept, last) = created.plaintext.split_at(created.plaintext.len() - 1);
        let typo = format!("{kept}{}", if last == "x" { "y" } else { "x" });
        let refusal = gatehouse
            .authenticate_api_key(&typo)
            .await
            .unwrap()
            .unwrap_err();
        assert!(matches!(
            refusal,
            KeyRefusal::Malformed(MalformedKey::ChecksumMismatch | MalformedKey::BadCharacter)
        ));
        let unknown = gatehouse_domain::api_keys::format::generate(KeyType::Secret, KeyMode::Live);
        assert_eq!(
            gatehouse.authenticate_api_key(&unknown).await.unwrap(),
            Err(KeyRefusal::Unknown)
        );
    }
);

on_both_engines!(
    key_input_is_validated_and_foreign_ids_are_not_found,
    |gatehouse: Gatehouse| async move {
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let (_, stranger) =
            tenant_with_user(&gatehouse, "owner@other.test", Role::Owner, true).await;
        let app_id = app_named(&gatehouse, &owner, "Checkout").await;
        let error = gatehouse
            .create_api_key(&owner, &restricted(&app_id, &[]))
            .await
            .unwrap_err();
        assert_eq!(
            error.to_detail().field_message("scopes").unwrap(),
            "A restricted key needs at least one scope."
        );
        let created = gatehouse
            .create_api_key(&owner, &restricted(&app_id, &["imports:read"]))
            .await
            .unwrap();
        let foreign_app = gatehouse
            .create_api_key(&stranger, &restricted(&app_id, &["imports:read"]))
            .await;
        assert_eq!(foreign_app.unwrap_err().code(), ErrorCode::NotFound);
        assert_eq!(
            gatehouse
                .api_key(&stranger, &created.key.id)
                .await
                .unwrap_err()
                .code(),
            ErrorCode::NotFound
        );
        assert_eq!(
            gatehouse
                .revoke_api_key(&stranger, &created.key.id)
                .await
                .unwrap_err()
                .code(),
            ErrorCode::NotFound
        );
        assert!(
            gatehouse
                .authenticate_api_key(&created.plaintext)
                .await
                .unwrap()
                .is_ok(),
            "untouched"
        );
    }
);

on_both_engines!(
    rotation_overlap_and_duplicate_and_edit,
    |gatehouse: Gatehouse| async move {
        use gatehouse_model::{ApiKeyUpdate, RotationOverlap};
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let app_id = app_named(&gatehouse, &owner, "Checkout").await;
        let mut input = restricted(&app_id, &["imports:read"]);
        input.expiry_days = Some(30);
        input.expires_at = Some(chrono::Utc::now() + chrono::Duration::days(30));
        let first = gatehouse.create_api_key(&owner, &input).await.unwrap();

        // Overlap of an hour: both secrets work.
        let second = gatehouse
            .rotate_api_key(&owner, &first.key.id, RotationOverlap::OneHour)
            .await
            .unwrap();
        assert_ne!(first.plaintext, second.plaintext);
        assert!(
            gatehouse
                .authenticate_api_key(&first.plaintext)
                .await
                .unwrap()
                .is_ok()
        );
        assert!(
            gatehouse
                .authenticate_api_key(&second.plaintext)
                .await
                .unwrap()
                .is_ok()
        );
        // Rotating again with no overlap retires every older secret at once.
        let third = gatehouse
            .rotate_api_key(&owner, &first.key.id, RotationOverlap::Now)
            .await
            .unwrap();
        assert_eq!(
            gatehouse
                .authenticate_api_key(&first.plaintext)
                .await
                .unwrap(),
            Err(KeyRefusal::Expired)
        );
        assert_eq!(
            gatehouse
                .authenticate_api_key(&second.plaintext)
                .await
                .unwrap(),
            Err(KeyRefusal::Expired)
        );
        assert!(
            gatehouse
                .authenticate_api_key(&third.plaintext)
                .await
                .unwrap()
                .is_ok()
        );
        assert_eq!(third.key.masked_key, format!("{}…", &third.plaintext[..12]));

        let copy = gatehouse
            .duplicate_api_key(&owner, &first.key.id)
            .await
            .unwrap();
        assert_ne!(copy.key.id, first.key.id);
        assert_eq!(copy.key.name, "Production integration (copy)");
        assert_eq!(
            (copy.key.mode, copy.key.key_type),
            (first.key.mode, first.key.key_type)
        );
        assert_eq!(copy.key.scopes, first.key.scopes);
        assert_eq!(copy.key.expiry_days, Some(30));
        assert!(
            gatehouse
                .authenticate_api_key(&copy.plaintext)
                .await
                .unwrap()
                .is_ok()
        );

        let update = ApiKeyUpdate {
            name: Some("Renamed".into()),
            description: Some("For imports".into()),
            scopes: Some(vec!["imports:read".into(), "exports:read".into()]),
            rate_limit: None,
        };
        let edited = gatehouse
            .update_api_key(&owner, &first.key.id, &update)
            .await
            .unwrap();
        assert_eq!(edited.name, "Renamed");
        assert_eq!(edited.scopes.unwrap(), ["imports:read", "exports:read"]);
        let events = gatehouse.recent_audit_events(&owner, 10).await.unwrap();
        assert_eq!(events[0].event_type, "api_key.updated");
    }
);

on_both_engines!(
    verify_answers_each_code,
    |gatehouse: Gatehouse| async move {
        use gatehouse_model::VerifyKeyRequest;
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let app_id = app_named(&gatehouse, &owner, "Checkout").await;
        let created = gatehouse
            .create_api_key(&owner, &restricted(&app_id, &["imports:write"]))
            .await
            .unwrap();
        let verify = |key: &str, scope: Option<&str>| {
            let request = VerifyKeyRequest {
                key: key.to_owned(),
                scope: scope.map(str::to_owned),
            };
            let gatehouse = gatehouse.clone();
            async move { gatehouse.verify_api_key(&request).await.unwrap() }
        };
        let valid = verify(&created.plaintext, Some("imports:read")).await;
        assert!(valid.valid);
        assert_eq!(valid.code, VerifyCode::Valid);
        assert_eq!(valid.app_id.as_ref(), Some(&app_id));
        assert_eq!(valid.remaining_quota, Some(99_999), "after this call");
        assert_eq!(
            verify(&created.plaintext, Some("invoices:read")).await.code,
            VerifyCode::InsufficientScope
        );
        assert_eq!(
            verify("sk_live_nonsense", None).await.code,
            VerifyCode::NotFound
        );
        gatehouse
            .set_api_key_enabled(&owner, &created.key.id, false)
            .await
            .unwrap();
        assert_eq!(
            verify(&created.plaintext, None).await.code,
            VerifyCode::Disabled
        );
        gatehouse
            .revoke_api_key(&owner, &created.key.id)
            .await
            .unwrap();
        let revoked = verify(&created.plaintext, None).await;
        assert_eq!((revoked.valid, revoked.code), (false, VerifyCode::Revoked));
        assert!(
            revoked.tenant_id.is_none(),
            "nothing about a refused key is revealed"
        );
    }
);

on_both_engines!(
    scopes_outside_the_catalog_are_refused,
    |gatehouse: Gatehouse| async move {
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let app_id = app_named(&gatehouse, &owner, "Checkout").await;
        let error = gatehouse
            .create_api_key(&owner, &restricted(&app_id, &["rockets:write"]))
            .await
            .unwrap_err();
        assert_eq!(
            error.to_detail().field_message("scopes").unwrap(),
            "`rockets:write` is not in the scope catalog."
        );
        let custom = gatehouse_domain::catalog::parse(
        r#"{"areas":[{"id":"rockets","label":"Rockets","access":["read","write"]}],"default_scopes":["rockets:read"],"event_families":["rocket.*"]}"#,
    )
    .unwrap();
        let operator = gatehouse.clone().with_scope_catalog(custom);
        let created = operator
            .create_api_key(&owner, &restricted(&app_id, &["rockets:write"]))
            .await
            .unwrap();
        assert_eq!(created.key.scopes.unwrap(), ["rockets:write"]);
    }
);
