//! The operator's integration on both engines: tokens and their scopes, tenants made
//! idempotently for the SaaS's accounts, people, one-time sign-in links and events.

use gatehouse_domain::Gatehouse;
use gatehouse_domain::clock::Clock;
use gatehouse_domain::error::DomainError;
use gatehouse_domain::operator::OperatorPrincipal;
use gatehouse_model::{
    ActorType, AuditFilter, ErrorCode, EventType, KeyMode, OperatorEventInput, OperatorScope,
    OperatorTenantInput, OperatorTenantQuery, OperatorTenantUpdate, PageRequest, PersonInput, Plan,
    Role, SignInLinkInput, TenantId,
};
use serde_json::json;

use crate::common::*;

async fn token(gatehouse: &Gatehouse, scopes: &[OperatorScope]) -> (String, OperatorPrincipal) {
    let created = gatehouse
        .operator()
        .create_operator_token("billing-service", scopes)
        .await
        .unwrap();
    let principal = gatehouse
        .authenticate_operator(Some(&created.token))
        .await
        .unwrap();
    (created.token, principal)
}

fn account(external_id: &str) -> OperatorTenantInput {
    OperatorTenantInput {
        name: "Acme Inc".to_owned(),
        external_id: external_id.to_owned(),
        plan: None,
        modules: None,
        subscription_state: None,
        monthly_call_limit: None,
        billing_anchor_day: None,
    }
}

fn link_for(email: &str, role: Role) -> SignInLinkInput {
    SignInLinkInput {
        email: email.to_owned(),
        name: Some("Dana Developer".to_owned()),
        role,
        path: Some("api-keys".to_owned()),
        ttl_seconds: None,
    }
}

/// Runs the futures at once (each on the runtime's threads), answering in order.
async fn concurrently<T, F>(futures: impl Iterator<Item = F>) -> Vec<T>
where
    T: Send + 'static,
    F: std::future::Future<Output = T> + Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut answers = Vec::with_capacity(handles.len());
    for handle in handles {
        answers.push(handle.await.unwrap());
    }
    answers
}

/// A `/v1` call with `key` as the domain sees it: the key checked, then the apps listed.
async fn list_apps_with(gatehouse: &Gatehouse, key: &str) -> Result<(), DomainError> {
    let actor = gatehouse.api_key_actor(Some(key)).await?;
    gatehouse
        .list_apps(&actor, &PageRequest::default())
        .await
        .map(|_| ())
}

fn code(error: DomainError) -> ErrorCode {
    error.code()
}

on_both_engines!(
    tokens_are_checked_on_every_call_and_hold_their_scopes,
    |gatehouse: Gatehouse| async move {
        let (plaintext, principal) = token(&gatehouse, &[]).await;
        assert!(plaintext.starts_with("op_"));
        assert!(!principal.scopes.contains(&OperatorScope::TenantsDelete));
        assert!(principal.scopes.contains(&OperatorScope::SignInLinksCreate));

        assert_eq!(
            code(gatehouse.authenticate_operator(None).await.unwrap_err()),
            ErrorCode::OperatorTokenMissing
        );
        // A tenant's key is never an operator token.
        let (_, owner, app) = owner_with_app(&gatehouse).await;
        let key = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        assert_eq!(
            code(
                gatehouse
                    .authenticate_operator(Some(&key.plaintext))
                    .await
                    .unwrap_err()
            ),
            ErrorCode::OperatorTokenInvalid
        );
        // Nor is an operator token a key.
        assert!(gatehouse.api_key_actor(Some(&plaintext)).await.is_err());

        // Revoked: refused from the next call, by another instance too.
        let other = gatehouse.operator().list_operator_tokens().await.unwrap();
        assert_eq!(other.len(), 1);
        gatehouse
            .operator()
            .revoke_operator_token(&principal.token_id)
            .await
            .unwrap();
        assert_eq!(
            code(
                gatehouse
                    .authenticate_operator(Some(&plaintext))
                    .await
                    .unwrap_err()
            ),
            ErrorCode::OperatorTokenInvalid
        );

        // A token that may only make links can do nothing else.
        let (_, links_only) = token(&gatehouse, &[OperatorScope::SignInLinksCreate]).await;
        let operator = gatehouse.operator_with(links_only);
        let refused = operator
            .create_tenant_for_account(&account("acct_1"), None)
            .await;
        assert!(matches!(
            refused,
            Err(DomainError::InsufficientScope("tenants:write"))
        ));
        let refused = operator.list_tenants(&OperatorTenantQuery::default()).await;
        assert!(matches!(
            refused,
            Err(DomainError::InsufficientScope("tenants:read"))
        ));
        // And no token can make tokens.
        assert_eq!(
            code(
                operator
                    .create_operator_token("more", &[])
                    .await
                    .unwrap_err()
            ),
            ErrorCode::CredentialNotAllowed
        );
    }
);

on_both_engines!(
    tenants_are_created_once_per_idempotency_key,
    |gatehouse: Gatehouse| async move {
        let (_, principal) = token(&gatehouse, &[]).await;
        let operator = gatehouse.operator_with(principal.clone());
        let first = operator
            .create_tenant_for_account(&account("acct_1042"), Some("create-1042"))
            .await
            .unwrap();
        assert!(!first.replayed);
        assert_eq!(first.tenant.external_id.as_deref(), Some("acct_1042"));
        assert_eq!(first.tenant.plan, Plan::Pro);
        assert_eq!(first.tenant.modules, vec!["platform.api".to_owned()]);
        let again = operator
            .create_tenant_for_account(&account("acct_1042"), Some("create-1042"))
            .await
            .unwrap();
        assert!(again.replayed);
        assert_eq!(again.tenant, first.tenant);
        let other_body = operator
            .create_tenant_for_account(&account("acct_9999"), Some("create-1042"))
            .await;
        assert!(matches!(other_body, Err(DomainError::IdempotencyKeyReused)));
        // Without a key, the account's id is still unique.
        let duplicate = operator
            .create_tenant_for_account(&account("acct_1042"), None)
            .await;
        assert!(matches!(duplicate, Err(DomainError::Conflict(_))));

        // Ten concurrent retries of one create make one tenant.
        let answers = concurrently((0..10).map(|_| {
            let gatehouse = gatehouse.clone();
            let principal = principal.clone();
            async move {
                gatehouse
                    .operator_with(principal)
                    .create_tenant_for_account(&account("acct_2000"), Some("create-2000"))
                    .await
            }
        }))
        .await;
        let made: Vec<TenantId> = answers
            .iter()
            .filter_map(|answer| {
                answer
                    .as_ref()
                    .ok()
                    .map(|created| created.tenant.id.clone())
            })
            .collect();
        assert!(!made.is_empty(), "{answers:?}");
        assert!(made.iter().all(|id| *id == made[0]), "{made:?}");
        for answer in &answers {
            if let Err(error) = answer {
                // A retry that found the first still running is told to retry.
                assert_eq!(error.code(), ErrorCode::Conflict, "{error:?}");
            }
        }
        let found = operator
            .list_tenants(&OperatorTenantQuery {
                external_id: Some("acct_2000".to_owned()),
                ..OperatorTenantQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(found.data.len(), 1);
        assert_eq!(found.data[0].id, made[0]);

        // A change of plan and name, audited as the operator.
        let changed = operator
            .change_tenant(
                &first.tenant.id,
                &OperatorTenantUpdate {
                    name: Some("Acme Corp".to_owned()),
                    plan: Some(Plan::Enterprise),
                    ..OperatorTenantUpdate::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            (changed.name.as_str(), changed.plan),
            ("Acme Corp", Plan::Enterprise)
        );
        assert_eq!(changed.external_id.as_deref(), Some("acct_1042"));
        let trail = gatehouse
            .search_audit_events(
                &gatehouse_domain::Actor::system(first.tenant.id.clone()),
                &AuditFilter::default(),
                &PageRequest::default(),
            )
            .await
            .unwrap()
            .data;
        assert!(trail.iter().any(
            |event| event.event_type == EventType::TenantUpdated.as_str()
                && event.actor_type == ActorType::Operator
                && event.actor_label == "operator:billing-service"
        ));
        assert!(trail.iter().any(
            |event| event.event_type == EventType::TenantCreated.as_str()
                && event.actor_label == "operator:billing-service"
        ));
        // The shadow test tenant is no tenant of the API.
        assert!(matches!(
            operator.tenant(&first.tenant.test_tenant_id).await,
            Err(DomainError::NotFound("tenant"))
        ));
    }
);

on_both_engines!(
    people_changes_hold_from_their_next_request,
    |gatehouse: Gatehouse| async move {
        let (_, principal) = token(&gatehouse, &[]).await;
        let operator = gatehouse.operator_with(principal);
        let tenant = operator
            .create_tenant_for_account(&account("acct_7"), None)
            .await
            .unwrap()
            .tenant;
        let person = PersonInput {
            email: "Dana@Acme.example".to_owned(),
            name: Some("Dana".to_owned()),
            role: Role::Manager,
        };
        let added = operator.upsert_person(&tenant.id, &person).await.unwrap();
        assert!(added.added);
        assert_eq!(added.person.email, "dana@acme.example");
        // A person the SaaS adds has no password to guess.
        assert!(
            gatehouse
                .sign_in("dana@acme.example", "!", None)
                .await
                .is_err()
        );

        let link = operator
            .create_sign_in_link(&tenant.id, &link_for("dana@acme.example", Role::Manager))
            .await
            .unwrap();
        let opened = gatehouse
            .open_sign_in_link(link.path.trim_start_matches("/sign-in/"))
            .await
            .unwrap();
        let session = gatehouse.session(&opened.session.token).await.unwrap();
        assert_eq!(session.viewer.role, Role::Manager);
        assert!(session.viewer.embedded);

        // Role change: the next request sees it.
        let demoted = operator
            .upsert_person(
                &tenant.id,
                &PersonInput {
                    role: Role::Member,
                    name: None,
                    ..person.clone()
                },
            )
            .await
            .unwrap();
        assert!(!demoted.added);
        // The link's name replaced the first; a name left out keeps it.
        assert_eq!(demoted.person.name, "Dana Developer");
        let session = gatehouse.session(&opened.session.token).await.unwrap();
        assert_eq!(session.viewer.role, Role::Member);
        assert!(!session.viewer.can_open_developers);

        let people = operator
            .list_people(&tenant.id, &PageRequest::default())
            .await
            .unwrap();
        assert_eq!(people.data.len(), 1);
        // Removal: the session ends at once.
        operator
            .remove_person(&tenant.id, &added.person.id)
            .await
            .unwrap();
        assert!(matches!(
            gatehouse.session(&opened.session.token).await,
            Err(DomainError::Unauthenticated)
        ));
        assert!(matches!(
            operator.remove_person(&tenant.id, &added.person.id).await,
            Err(DomainError::NotFound("person"))
        ));
    }
);

on_both_engines!(
    a_sign_in_link_works_once_in_its_tenant_within_its_lifetime,
    |gatehouse: Gatehouse| async move {
        let clock = Clock::manual(1_780_000_000_000);
        let gatehouse = gatehouse.with_clock(clock.clone());
        let (_, principal) = token(&gatehouse, &[]).await;
        let operator = gatehouse.operator_with(principal);
        let tenant_a = operator
            .create_tenant_for_account(&account("acct_a"), None)
            .await
            .unwrap()
            .tenant;
        let tenant_b = operator
            .create_tenant_for_account(&account("acct_b"), None)
            .await
            .unwrap()
            .tenant;

        let link = operator
            .create_sign_in_link(&tenant_a.id, &link_for("lee@acme.example", Role::Owner))
            .await
            .unwrap();
        assert_eq!(link.expires_at_ms, 1_780_000_000_000 + 60_000);
        let token = link.path.trim_start_matches("/sign-in/").to_owned();
        assert!(token.len() >= 32, "at least 128 random bits: {token}");

        // Twenty concurrent openings: exactly one session.
        let openings = concurrently((0..20).map(|_| {
            let gatehouse = gatehouse.clone();
            let token = token.clone();
            async move { gatehouse.open_sign_in_link(&token).await }
        }))
        .await;
        let opened: Vec<_> = openings
            .iter()
            .filter_map(|opening| opening.as_ref().ok())
            .collect();
        assert_eq!(opened.len(), 1, "{openings:?}");
        for opening in &openings {
            if let Err(error) = opening {
                assert!(
                    matches!(error, DomainError::NotFound("sign-in link")),
                    "{error:?}"
                );
            }
        }
        let session = gatehouse.session(&opened[0].session.token).await.unwrap();
        assert_eq!(
            session.viewer.tenant_id, tenant_a.id,
            "a link of A opens A only"
        );
        assert_ne!(session.viewer.tenant_id, tenant_b.id);
        assert_eq!(opened[0].landing_path, "/settings/developers/api-keys");

        // Expired: a minute and a moment later it opens nothing.
        let late = operator
            .create_sign_in_link(&tenant_a.id, &link_for("lee@acme.example", Role::Owner))
            .await
            .unwrap();
        clock.set_ms(1_780_000_000_000 + 60_001);
        assert!(
            gatehouse
                .open_sign_in_link(late.path.trim_start_matches("/sign-in/"))
                .await
                .is_err()
        );
        // Lifetimes: 1 to 600 seconds; pages inside the workspace only.
        for ttl in [0, 601] {
            let refused = operator
                .create_sign_in_link(
                    &tenant_a.id,
                    &SignInLinkInput {
                        ttl_seconds: Some(ttl),
                        ..link_for("lee@acme.example", Role::Owner)
                    },
                )
                .await;
            assert!(matches!(refused, Err(DomainError::Validation(_))), "{ttl}");
        }
        let off_site = operator
            .create_sign_in_link(
                &tenant_a.id,
                &SignInLinkInput {
                    path: Some("https://evil.example".to_owned()),
                    ..link_for("lee@acme.example", Role::Owner)
                },
            )
            .await;
        assert!(matches!(off_site, Err(DomainError::Validation(_))));
        // Markup in a name is kept as text, and a huge one is refused.
        let huge = operator
            .create_sign_in_link(
                &tenant_a.id,
                &SignInLinkInput {
                    name: Some("x".repeat(1_000_000)),
                    ..link_for("lee@acme.example", Role::Owner)
                },
            )
            .await;
        assert!(matches!(huge, Err(DomainError::Validation(_))));
        // The link is never stored: only its digest.
        let stored: Vec<(String,)> = sqlx::query_as("SELECT token_digest FROM sign_in_links")
            .fetch_all(gatehouse.db().pool_for_tests())
            .await
            .unwrap();
        assert!(stored.iter().all(|(digest,)| !digest.contains(&token)));
    }
);

on_both_engines!(
    operator_events_fan_out_like_a_keys,
    |gatehouse: Gatehouse| async move {
        let (tenant_id, owner, app) = owner_with_app(&gatehouse).await;
        let (_, other_owner) =
            tenant_with_user(&gatehouse, "owner@other.test", Role::Owner, true).await;
        let other_app = app_named(&gatehouse, &other_owner, "Elsewhere").await;
        let (_, principal) = token(&gatehouse, &[OperatorScope::EventsWrite]).await;
        let operator = gatehouse.operator_with(principal);
        let input = OperatorEventInput {
            app_id: app.clone(),
            mode: Some(KeyMode::Test),
            event_type: "invoice.paid".to_owned(),
            data: json!({ "id": "in_1" }),
        };
        let sent = operator
            .send_event(&tenant_id, &input, Some("evt-1"))
            .await
            .unwrap();
        assert!(!sent.replayed);
        assert_eq!(sent.event.mode, KeyMode::Test);
        let again = operator
            .send_event(&tenant_id, &input, Some("evt-1"))
            .await
            .unwrap();
        assert!(again.replayed);
        assert_eq!(again.event.id, sent.event.id);
        // Another tenant's app is no app of this tenant.
        let elsewhere = operator
            .send_event(
                &tenant_id,
                &OperatorEventInput {
                    app_id: other_app,
                    ..input.clone()
                },
                None,
            )
            .await;
        assert!(matches!(elsewhere, Err(DomainError::NotFound("app"))));
        // The owner sees the event in the test mode's list.
        let events = gatehouse
            .list_events(&owner, Some(KeyMode::Test), &PageRequest::default())
            .await
            .unwrap();
        assert!(events.data.iter().any(|event| event.id == sent.event.id));
    }
);

on_both_engines!(
    a_suspended_tenant_keeps_everything_and_gets_it_back,
    |gatehouse: Gatehouse| async move {
        use crate::common::receiver::Receiver;
        use gatehouse_model::{AppInput, EndpointInput, VerifyCode, VerifyKeyRequest};
        let (tenant_id, owner, app) = owner_with_app(&gatehouse).await;
        let receiver = Receiver::start().await;
        gatehouse
            .create_webhook_endpoint(
                &owner,
                &EndpointInput {
                    app_id: Some(app.clone()),
                    url: receiver.url.clone(),
                    description: String::new(),
                    mode: KeyMode::Live,
                    event_families: vec!["invoice.*".to_owned()],
                    rate_limit_per_second: None,
                },
            )
            .await
            .unwrap();
        let key = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        let (_, principal) = token(&gatehouse, &[]).await;
        let operator = gatehouse.operator_with(principal);

        for suspension in [
            OperatorTenantUpdate {
                suspended: Some(true),
                ..OperatorTenantUpdate::default()
            },
            OperatorTenantUpdate {
                subscription_state: Some(gatehouse_model::SubscriptionState::Canceled),
                ..OperatorTenantUpdate::default()
            },
        ] {
            let suspended = operator
                .change_tenant(&tenant_id, &suspension)
                .await
                .unwrap();
            assert!(suspended.suspended, "{suspended:?}");
            gatehouse.apply_tenant_changes().await.unwrap();

            // Keys are refused with their own code, at /v1 and at verification.
            let refused = list_apps_with(&gatehouse, &key.plaintext).await;
            assert!(
                matches!(refused, Err(DomainError::TenantSuspended)),
                "{refused:?}"
            );
            let verified = gatehouse
                .verify_api_key(&VerifyKeyRequest {
                    key: key.plaintext.clone(),
                    scope: None,
                })
                .await
                .unwrap();
            assert_eq!(verified.code, VerifyCode::TenantSuspended);

            // The dashboard reads but does not change.
            let session = gatehouse
                .sign_in("owner@acme.test", PASSWORD, None)
                .await
                .unwrap();
            let person = gatehouse.session(&session.token).await.unwrap();
            assert!(person.viewer.suspended);
            assert!(
                gatehouse
                    .list_apps(&person.actor, &PageRequest::default())
                    .await
                    .is_ok()
            );
            let write = gatehouse
                .create_app(
                    &person.actor,
                    &AppInput {
                        name: "More".into(),
                        ..AppInput::default()
                    },
                )
                .await;
            assert!(
                matches!(write, Err(DomainError::TenantSuspended)),
                "{write:?}"
            );

            // An event the SaaS posts meanwhile waits, and is not lost.
            let sent = operator
                .send_event(
                    &tenant_id,
                    &OperatorEventInput {
                        app_id: app.clone(),
                        mode: None,
                        event_type: "invoice.paid".to_owned(),
                        data: json!({ "id": "in_1" }),
                    },
                    None,
                )
                .await
                .unwrap();
            assert_eq!(sent.event.deliveries, 1);
            assert_eq!(gatehouse.deliver_due_webhooks().await.unwrap().attempted, 0);
            assert!(
                receiver
                    .received()
                    .iter()
                    .all(|request| request.webhook_id != sent.event.id.as_str())
            );

            // Lifted: the key works, and the waiting delivery goes out.
            let lifted = OperatorTenantUpdate {
                suspended: Some(false),
                subscription_state: Some(gatehouse_model::SubscriptionState::Active),
                ..OperatorTenantUpdate::default()
            };
            assert!(
                !operator
                    .change_tenant(&tenant_id, &lifted)
                    .await
                    .unwrap()
                    .suspended
            );
            gatehouse.apply_tenant_changes().await.unwrap();
            let actor = gatehouse.api_key_actor(Some(&key.plaintext)).await.unwrap();
            assert!(
                gatehouse
                    .list_apps(&actor, &PageRequest::default())
                    .await
                    .is_ok()
            );
            assert_eq!(gatehouse.deliver_due_webhooks().await.unwrap().succeeded, 1);
            assert!(
                receiver
                    .received()
                    .iter()
                    .any(|request| request.webhook_id == sent.event.id.as_str())
            );
        }
    }
);

/// Every table with a `tenant_id` column, read from the database itself (so a table the
/// purge forgot is found), but the purge's own record.
async fn tenant_tables(gatehouse: &Gatehouse) -> Vec<String> {
    let sql = match gatehouse.db().engine() {
        gatehouse_domain::Engine::Sqlite => {
            "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) c
             WHERE m.type = 'table' AND c.name = 'tenant_id' ORDER BY m.name"
        }
        gatehouse_domain::Engine::Postgres => {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.columns
             WHERE column_name = 'tenant_id' AND table_schema = current_schema()
             ORDER BY table_name"
        }
    };
    let tables: Vec<(String,)> = sqlx::query_as(sql)
        .fetch_all(gatehouse.db().pool_for_tests())
        .await
        .unwrap();
    tables
        .into_iter()
        .map(|(table,)| table)
        .filter(|table| !table.starts_with("tenant_purge"))
        .collect()
}

/// Rows of a tenant and its shadow, by table (and the tenants rows themselves).
async fn rows_of(
    gatehouse: &Gatehouse,
    tenant: &TenantId,
) -> std::collections::BTreeMap<String, i64> {
    let shadow = gatehouse
        .tenant(tenant)
        .await
        .map(|tenant| tenant.test_tenant_id);
    let (shadow,): (String,) = match shadow {
        Ok(shadow) => (shadow.to_string(),),
        Err(_) => sqlx::query_as("SELECT test_tenant_id FROM tenant_purges WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_one(gatehouse.db().pool_for_tests())
            .await
            .unwrap(),
    };
    let mut counts = std::collections::BTreeMap::new();
    for table in tenant_tables(gatehouse).await {
        let (count,): (i64,) = sqlx::query_as(&format!(
            "SELECT COUNT(*) FROM {table} WHERE tenant_id IN ($1, $2)"
        ))
        .bind(tenant.as_str())
        .bind(&shadow)
        .fetch_one(gatehouse.db().pool_for_tests())
        .await
        .unwrap();
        counts.insert(table, count);
    }
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM tenants WHERE id IN ($1, $2)")
        .bind(tenant.as_str())
        .bind(&shadow)
        .fetch_one(gatehouse.db().pool_for_tests())
        .await
        .unwrap();
    counts.insert("tenants".to_owned(), count);
    counts
}

/// `rows` rows of bulk for a tenant: usage by the hour, and audit events with their
/// index entries (what grows largest in a real tenant).
async fn bulk(gatehouse: &Gatehouse, tenant: &TenantId, app: &str, key: &str, rows: i64) {
    let pool = gatehouse.db().pool_for_tests();
    let numbers = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $4)";
    for statement in [
        format!(
            "INSERT INTO usage_hourly (tenant_id, app_id, key_id, mode, hour_start, successes, failures)
             {numbers} SELECT $1, $2, $3, 'live', CAST(i AS BIGINT) * 3600000, 1, 0 FROM n"
        ),
        format!(
            "INSERT INTO audit_events (id, tenant_id, occurred_at, actor_type, actor_id, actor_label,
                event_type, message, app_id, mode, related_ids, before_state, after_state)
             {numbers} SELECT 'aud_bulk_' || $1 || '_' || CAST(i AS TEXT), $1, CAST(i AS BIGINT), 'system',
                NULL, 'Gatehouse', 'app.updated', 'bulk', $2, 'live', '{{}}', NULL, NULL
             FROM n WHERE $3 = $3"
        ),
        format!(
            "INSERT INTO audit_event_refs (tenant_id, ref_id, occurred_at, event_id, app_id, mode)
             {numbers} SELECT $1, $3, CAST(i AS BIGINT), 'aud_bulk_' || $1 || '_' || CAST(i AS TEXT), $2, 'live'
             FROM n"
        ),
    ] {
        sqlx::query(&statement)
            .bind(tenant.as_str())
            .bind(app)
            .bind(key)
            .bind(rows)
            .execute(pool)
            .await
            .unwrap();
    }
}

on_both_engines!(
    deleting_a_tenant_purges_all_of_it_and_nothing_of_another,
    |gatehouse: Gatehouse| async move {
        use gatehouse_model::PurgeState;
        // Two tenants with a bit of everything: people, apps, keys of both modes, an
        // endpoint, events and their deliveries, a link, and a big history.
        let mut tenants = Vec::new();
        for email in ["owner@acme.test", "owner@other.test"] {
            let (tenant_id, owner) = tenant_with_user(&gatehouse, email, Role::Owner, true).await;
            let app = app_named(&gatehouse, &owner, "Checkout").await;
            let live = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
            create_key(&gatehouse, &owner, &app, KeyMode::Test, None).await;
            gatehouse
                .operator()
                .send_event(
                    &tenant_id,
                    &OperatorEventInput {
                        app_id: app.clone(),
                        mode: None,
                        event_type: "invoice.paid".to_owned(),
                        data: json!({ "id": "in_1" }),
                    },
                    Some("first"),
                )
                .await
                .unwrap();
            gatehouse
                .operator()
                .create_sign_in_link(&tenant_id, &link_for("dev@acme.example", Role::Manager))
                .await
                .unwrap();
            tenants.push((tenant_id, app, live));
        }
        let (doomed, doomed_app, doomed_key) = &tenants[0];
        let (kept, kept_app, kept_key) = &tenants[1];
        bulk(
            &gatehouse,
            doomed,
            doomed_app.as_str(),
            doomed_key.key.id.as_str(),
            35_000,
        )
        .await;
        bulk(
            &gatehouse,
            kept,
            kept_app.as_str(),
            kept_key.key.id.as_str(),
            1_000,
        )
        .await;
        let doomed_rows = rows_of(&gatehouse, doomed).await;
        let kept_before = rows_of(&gatehouse, kept).await;
        let doomed_total: i64 = doomed_rows.values().sum();
        assert!(doomed_total >= 100_000, "{doomed_rows:?}");

        let purge = gatehouse.operator().delete_tenant(doomed).await.unwrap();
        assert_eq!(purge.state, PurgeState::Running);
        assert_eq!(purge.requested_by, "cli");
        // From the first moment: gone from the API, its keys refused.
        assert!(matches!(
            gatehouse.tenant(doomed).await,
            Err(DomainError::NotFound("tenant"))
        ));
        let refused = list_apps_with(&gatehouse, &doomed_key.plaintext).await;
        assert!(refused.is_err(), "a deleted tenant's key still works");

        let removed = gatehouse.continue_purges().await.unwrap();
        assert!(removed >= doomed_total, "{removed} < {doomed_total}");
        let receipt = gatehouse.operator().purge(doomed).await.unwrap();
        assert_eq!(receipt.state, PurgeState::Finished);
        for (table, count) in &doomed_rows {
            // The deletion itself was one more audit event.
            let expected = if table == "audit_events" {
                count + 1
            } else {
                *count
            };
            assert_eq!(
                receipt.removed.get(table).copied().unwrap_or(0),
                expected,
                "{table}: {receipt:?}"
            );
        }
        assert!(
            rows_of(&gatehouse, doomed)
                .await
                .values()
                .all(|count| *count == 0)
        );
        assert_eq!(
            rows_of(&gatehouse, kept).await,
            kept_before,
            "another tenant's rows changed"
        );
        // Rows without a tenant column went with their parents.
        for orphans in [
            "SELECT COUNT(*) FROM api_key_secrets WHERE key_id NOT IN (SELECT id FROM api_keys)",
            "SELECT COUNT(*) FROM webhook_secrets WHERE endpoint_id NOT IN (SELECT id FROM webhook_endpoints)",
            "SELECT COUNT(*) FROM users WHERE email = 'owner@acme.test'",
        ] {
            let (count,): (i64,) = sqlx::query_as(orphans)
                .fetch_one(gatehouse.db().pool_for_tests())
                .await
                .unwrap();
            assert_eq!(count, 0, "{orphans}");
        }
        // The other tenant's audit trail is append-only as before.
        let deleted = sqlx::query("DELETE FROM audit_events WHERE tenant_id = $1")
            .bind(kept.as_str())
            .execute(gatehouse.db().pool_for_tests())
            .await;
        assert!(
            deleted.is_err(),
            "an audit row of a live tenant was deleted"
        );
        let updated = sqlx::query("UPDATE audit_events SET message = 'x' WHERE tenant_id = $1")
            .bind(kept.as_str())
            .execute(gatehouse.db().pool_for_tests())
            .await;
        assert!(updated.is_err());
        // A second run finds nothing left to do.
        assert_eq!(gatehouse.continue_purges().await.unwrap(), 0);
    }
);

on_both_engines!(
    a_tenant_billed_on_the_15th_gets_its_calls_back_on_the_15th,
    |gatehouse: Gatehouse| async move {
        use gatehouse_domain::admission::CallAttempt;
        let at = |text: &str| {
            chrono::DateTime::parse_from_rfc3339(text)
                .unwrap()
                .timestamp_millis()
        };
        let clock = Clock::manual(at("2026-12-10T12:00:00Z"));
        let gatehouse = gatehouse.with_clock(clock.clone());
        let operator = gatehouse.operator();
        let tenant = operator
            .create_tenant_for_account(
                &OperatorTenantInput {
                    monthly_call_limit: Some(2),
                    billing_anchor_day: Some(15),
                    ..account("acct_15")
                },
                None,
            )
            .await
            .unwrap()
            .tenant;
        assert_eq!(tenant.billing_anchor_day, 15);
        assert_eq!(
            tenant.billing_window_start.to_rfc3339(),
            "2026-11-15T00:00:00+00:00"
        );
        assert_eq!(
            tenant.billing_window_end.to_rfc3339(),
            "2026-12-15T00:00:00+00:00"
        );
        let refused = operator
            .change_tenant(
                &tenant.id,
                &OperatorTenantUpdate {
                    billing_anchor_day: Some(31),
                    ..OperatorTenantUpdate::default()
                },
            )
            .await;
        assert!(
            matches!(refused, Err(DomainError::Validation(_))),
            "{refused:?}"
        );

        let person = operator
            .create_user(
                &tenant.id,
                "owner@fifteen.test",
                Role::Owner,
                Some(PASSWORD.to_owned()),
            )
            .await
            .unwrap();
        let session = gatehouse
            .sign_in(&person.email, PASSWORD, None)
            .await
            .unwrap();
        let owner = gatehouse.session(&session.token).await.unwrap().actor;
        let app = app_named(&gatehouse, &owner, "Billing").await;
        let key = create_key(&gatehouse, &owner, &app, KeyMode::Live, None).await;
        let call = || async {
            gatehouse
                .admit(CallAttempt {
                    credential: Some(&key.plaintext),
                    ..CallAttempt::default()
                })
                .await
                .map(|_| ())
                .map_err(|refused| refused.error.code())
        };
        assert_eq!(call().await, Ok(()));
        assert_eq!(call().await, Ok(()));
        assert_eq!(call().await, Err(ErrorCode::UsageExceeded));
        // The 15th, 00:00 UTC: a new window, the calls are back.
        clock.set_ms(at("2026-12-15T00:00:01Z"));
        assert_eq!(call().await, Ok(()));
        let read = operator.tenant(&tenant.id).await.unwrap();
        assert_eq!(
            read.billing_window_start.to_rfc3339(),
            "2026-12-15T00:00:00+00:00"
        );
    }
);
