//! The foundation's rules on both engines: tenants, sign-in, sessions, apps, audit.

use crate::common::{PASSWORD, tenant_with_user};
use gatehouse_domain::{DomainError, Gatehouse};
use gatehouse_model::{
    AppId, AppInput, AuditFilter, ErrorCode, EventType, PageRequest, PaywallState, Plan, Role,
};

fn app_input(name: &str, origins: &[&str]) -> AppInput {
    AppInput {
        name: name.to_owned(),
        description: format!("{name} integration"),
        allowed_origins: origins.iter().map(|origin| (*origin).to_owned()).collect(),
    }
}

async fn audit_types(gatehouse: &Gatehouse, actor: &gatehouse_domain::Actor) -> Vec<String> {
    gatehouse
        .recent_audit_events(actor, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|event| event.event_type)
        .collect()
}

on_both_engines!(
    bootstrap_creates_the_demo_tenant_once,
    |gatehouse: Gatehouse| async move {
        let owner = gatehouse
            .operator()
            .bootstrap_demo(Some(PASSWORD.to_owned()))
            .await
            .unwrap()
            .expect("first start");
        assert!(!owner.password_was_generated);
        assert!(
            gatehouse
                .operator()
                .bootstrap_demo(None)
                .await
                .unwrap()
                .is_none(),
            "second start creates nothing"
        );
        let session = gatehouse
            .sign_in(&owner.email, PASSWORD, None)
            .await
            .unwrap();
        assert_eq!(session.viewer.role, Role::Owner);
        assert!(session.viewer.platform_api_enabled);
        let actor = gatehouse.session(&session.token).await.unwrap().actor;
        let tenant = gatehouse.tenant(&actor.tenant_id).await.unwrap();
        assert_eq!(tenant.plan, Plan::Pro);
        assert_ne!(
            tenant.test_tenant_id, tenant.id,
            "a shadow test tenant exists"
        );
    }
);

on_both_engines!(
    generated_passwords_sign_in,
    |gatehouse: Gatehouse| async move {
        let owner = gatehouse
            .operator()
            .bootstrap_demo(None)
            .await
            .unwrap()
            .unwrap();
        assert!(owner.password_was_generated);
        assert!(owner.password.len() >= 20);
        gatehouse
            .sign_in(&owner.email, &owner.password, None)
            .await
            .unwrap();
    }
);

on_both_engines!(
    wrong_email_and_wrong_password_answer_alike,
    |gatehouse: Gatehouse| async move {
        tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let wrong_password = gatehouse
            .sign_in("owner@acme.test", "not the password", None)
            .await
            .unwrap_err();
        let wrong_email = gatehouse
            .sign_in("nobody@acme.test", PASSWORD, None)
            .await
            .unwrap_err();
        assert_eq!(wrong_password.to_detail(), wrong_email.to_detail());
        assert_eq!(wrong_password.code(), ErrorCode::InvalidCredentials);
    }
);

on_both_engines!(
    repeated_failures_throttle_the_account,
    |gatehouse: Gatehouse| async move {
        tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        for _ in 0..gatehouse_domain::auth::MAX_FAILURES {
            let error = gatehouse
                .sign_in("owner@acme.test", "wrong password!", None)
                .await
                .unwrap_err();
            assert_eq!(error.code(), ErrorCode::InvalidCredentials);
        }
        let error = gatehouse
            .sign_in("owner@acme.test", PASSWORD, None)
            .await
            .unwrap_err();
        assert!(
            matches!(error, DomainError::SignInThrottled { retry_after_seconds } if retry_after_seconds > 0)
        );
        // Unknown emails are throttled the same way, so the lock reveals nothing.
        for _ in 0..gatehouse_domain::auth::MAX_FAILURES {
            gatehouse
                .sign_in("ghost@acme.test", "wrong password!", None)
                .await
                .unwrap_err();
        }
        let error = gatehouse
            .sign_in("ghost@acme.test", "wrong password!", None)
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::SignInThrottled);
    }
);

on_both_engines!(
    sessions_change_at_sign_in_and_die_at_sign_out,
    |gatehouse: Gatehouse| async move {
        tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let first = gatehouse
            .sign_in("owner@acme.test", PASSWORD, None)
            .await
            .unwrap();
        let second = gatehouse
            .sign_in("owner@acme.test", PASSWORD, None)
            .await
            .unwrap();
        assert_ne!(first.token, second.token);
        gatehouse.sign_out(&first.token).await.unwrap();
        assert_eq!(
            gatehouse.session(&first.token).await.unwrap_err().code(),
            ErrorCode::Unauthenticated
        );
        let still_signed_in = gatehouse.session(&second.token).await.unwrap();
        // The sign-out is in the audit trail, once: ending an ended session records nothing.
        gatehouse.sign_out(&first.token).await.unwrap();
        let sign_outs = gatehouse
            .search_audit_events(
                &still_signed_in.actor,
                &AuditFilter {
                    event_type: Some(EventType::UserSignedOut),
                    ..AuditFilter::default()
                },
                &PageRequest::default(),
            )
            .await
            .unwrap()
            .data;
        assert_eq!(sign_outs.len(), 1, "{sign_outs:?}");
        assert_eq!(
            sign_outs[0].message.as_deref(),
            Some("owner@acme.test signed out")
        );
        assert_eq!(
            gatehouse.session("not-a-token").await.unwrap_err().code(),
            ErrorCode::Unauthenticated
        );
        // Only a digest of the token is stored.
        let (stored,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM sessions WHERE token_digest = $1")
                .bind(&second.token)
                .fetch_one(gatehouse.db().pool_for_tests())
                .await
                .unwrap();
        assert_eq!(stored, 0);
    }
);

on_both_engines!(
    apps_are_created_edited_listed_and_selected,
    |gatehouse: Gatehouse| async move {
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let invalid = gatehouse
            .create_app(
                &owner,
                &app_input("Checkout", &["https://shop.example.com/"]),
            )
            .await;
        let Err(DomainError::Validation(fields)) = invalid else {
            panic!("expected validation error")
        };
        assert_eq!(fields[0].field, "allowed_origins");
        assert!(
            gatehouse
                .list_apps(&owner, &Default::default())
                .await
                .unwrap()
                .data
                .is_empty(),
            "nothing saved on invalid input"
        );

        let checkout = gatehouse
            .create_app(
                &owner,
                &app_input("Checkout", &["https://Shop.example.com"]),
            )
            .await
            .unwrap();
        assert_eq!(checkout.allowed_origins, ["https://shop.example.com"]);
        let billing = gatehouse
            .create_app(&owner, &app_input("Billing", &[]))
            .await
            .unwrap();
        let page = gatehouse.apps_page(&owner).await.unwrap();
        assert_eq!(page.apps.len(), 2);
        assert_eq!(
            page.selected_app_id.as_ref(),
            Some(&checkout.id),
            "first app is selected"
        );

        gatehouse.select_app(&owner, &billing.id).await.unwrap();
        let overview = gatehouse.overview(&owner).await.unwrap();
        assert_eq!(overview.selected_app.unwrap().name, "Billing");
        assert_eq!(overview.app_count, 2);
        assert_eq!(overview.paywall_state, PaywallState::Open);

        let edited = gatehouse
            .update_app(
                &owner,
                &billing.id,
                &app_input("Billing v2", &["http://localhost:5173"]).into(),
            )
            .await
            .unwrap();
        assert_eq!(gatehouse.app(&owner, &billing.id).await.unwrap(), edited);
        let types = audit_types(&gatehouse, &owner).await;
        assert_eq!(types[..3], ["app.updated", "app.created", "app.created"]);
    }
);

on_both_engines!(
    another_tenants_app_is_not_found,
    |gatehouse: Gatehouse| async move {
        let (_, alice) = tenant_with_user(&gatehouse, "alice@one.test", Role::Owner, true).await;
        let (_, bob) = tenant_with_user(&gatehouse, "bob@two.test", Role::Owner, true).await;
        let alices = gatehouse
            .create_app(&alice, &app_input("Alice's", &[]))
            .await
            .unwrap();
        let missing = AppId::from_body(&gatehouse_domain::ids::fresh_body());
        for id in [&alices.id, &missing] {
            assert_eq!(
                gatehouse.app(&bob, id).await.unwrap_err().code(),
                ErrorCode::NotFound
            );
            assert_eq!(
                gatehouse.select_app(&bob, id).await.unwrap_err().code(),
                ErrorCode::NotFound
            );
            let update = gatehouse
                .update_app(&bob, id, &app_input("Stolen", &[]).into())
                .await;
            assert_eq!(update.unwrap_err().code(), ErrorCode::NotFound);
        }
        assert!(
            gatehouse
                .list_apps(&bob, &Default::default())
                .await
                .unwrap()
                .data
                .is_empty()
        );
        assert_eq!(
            gatehouse.app(&alice, &alices.id).await.unwrap().name,
            "Alice's"
        );
    }
);

on_both_engines!(
    members_and_tenants_without_the_module_are_refused,
    |gatehouse: Gatehouse| async move {
        let (tenant_id, _) =
            tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        gatehouse
            .operator()
            .create_user(
                &tenant_id,
                "member@acme.test",
                Role::Member,
                Some(PASSWORD.into()),
            )
            .await
            .unwrap();
        let member_session = gatehouse
            .sign_in("member@acme.test", PASSWORD, None)
            .await
            .unwrap();
        assert!(!member_session.viewer.can_open_developers);
        let member = gatehouse
            .session(&member_session.token)
            .await
            .unwrap()
            .actor;
        let error = gatehouse
            .create_app(&member, &app_input("Sneaky", &[]))
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::PermissionDenied);
        assert_eq!(
            gatehouse.overview(&member).await.unwrap_err().code(),
            ErrorCode::PermissionDenied
        );

        let (_, free_owner) =
            tenant_with_user(&gatehouse, "owner@free.test", Role::Owner, false).await;
        let error = gatehouse
            .create_app(&free_owner, &app_input("Locked", &[]))
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::ModuleNotEnabled);
    }
);

on_both_engines!(
    sign_ins_and_failures_are_audited_and_append_only,
    |gatehouse: Gatehouse| async move {
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        gatehouse
            .sign_in("owner@acme.test", "wrong password!", None)
            .await
            .unwrap_err();
        let types = audit_types(&gatehouse, &owner).await;
        assert_eq!(types[..2], ["user.sign_in_failed", "user.signed_in"]);
        assert!(types.contains(&"tenant.created".to_owned()));
        let events = gatehouse.recent_audit_events(&owner, 100).await.unwrap();
        assert!(events.iter().all(|event| {
            !event
                .message
                .clone()
                .unwrap_or_default()
                .contains("wrong password")
        }));

        let update = sqlx::query("UPDATE audit_events SET message = 'rewritten'")
            .execute(gatehouse.db().pool_for_tests())
            .await;
        assert!(update.is_err(), "audit events cannot be edited");
        let delete = sqlx::query("DELETE FROM audit_events")
            .execute(gatehouse.db().pool_for_tests())
            .await;
        assert!(delete.is_err(), "audit events cannot be deleted");
    }
);

on_both_engines!(sqlite_runs_in_wal_mode, |gatehouse: Gatehouse| async move {
    match gatehouse.db().engine() {
        gatehouse_domain::Engine::Sqlite => {
            assert_eq!(
                gatehouse
                    .db()
                    .sqlite_journal_mode()
                    .await
                    .unwrap()
                    .as_deref(),
                Some("wal")
            )
        }
        gatehouse_domain::Engine::Postgres => assert!(gatehouse.db().ping().await),
    }
});
