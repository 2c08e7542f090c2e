//! Searching the audit trail on both engines: each filter, the time range's
//! edges, newest first, pages that inserts do not shift, the limit's bounds, no
//! cross-tenant answer, and a key confined to its own app and mode.

use crate::common::{actor_for, app_named, create_key, key_input, tenant_with_user};
use gatehouse_domain::{Actor, Clock, DomainError, Gatehouse};
use gatehouse_model::{
    ApiKeyUpdate, AppId, AuditEventId, AuditEventView, AuditFilter, CreatedApiKey, ErrorCode,
    EventInput, EventType, KeyMode, PageRequest, Role,
};
use serde_json::json;

/// 2026-03-01T00:00:00Z, where the manual clocks of these tests start.
const START_MS: i64 = 1_772_323_200_000;

/// A clock that stands still until moved, so that times are exact.
fn at_start(gatehouse: Gatehouse) -> (Gatehouse, Clock) {
    let clock = Clock::manual(START_MS);
    (gatehouse.with_clock(clock.clone()), clock)
}

async fn search(gatehouse: &Gatehouse, actor: &Actor, filter: AuditFilter) -> Vec<AuditEventView> {
    gatehouse
        .search_audit_events(actor, &filter, &PageRequest::default())
        .await
        .unwrap()
        .data
}

/// The field a refused search names.
fn refused_field(result: Result<impl std::fmt::Debug, DomainError>) -> String {
    match result.unwrap_err() {
        DomainError::Validation(fields) => fields[0].field.clone(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

/// Events of one type.
fn of_type(event_type: EventType) -> AuditFilter {
    AuditFilter {
        event_type: Some(event_type),
        ..AuditFilter::default()
    }
}

/// Events done by one user or key.
fn by_actor(actor_id: impl ToString) -> AuditFilter {
    AuditFilter {
        actor_id: Some(actor_id.to_string()),
        ..AuditFilter::default()
    }
}

/// Events that concern one id.
fn about(related_id: impl ToString) -> AuditFilter {
    AuditFilter {
        related_id: Some(related_id.to_string()),
        ..AuditFilter::default()
    }
}

/// Records one `app.updated` event: the app's description becomes `description`.
async fn describe_app(gatehouse: &Gatehouse, owner: &Actor, app: &AppId, description: String) {
    let update = gatehouse_model::AppUpdate {
        description: Some(description),
        ..Default::default()
    };
    gatehouse.update_app(owner, app, &update).await.unwrap();
}

fn types(events: &[AuditEventView]) -> Vec<&str> {
    events
        .iter()
        .map(|event| event.event_type.as_str())
        .collect()
}

fn ids(events: &[AuditEventView]) -> Vec<AuditEventId> {
    events.iter().map(|event| event.id.clone()).collect()
}

/// A tenant with an owner, apps Checkout and Billing, and a few keys and changes, each
/// a second apart.
struct Trail {
    owner: Actor,
    checkout: AppId,
    billing: AppId,
    /// Live, full access, in Checkout; renamed once; sent one event.
    first: CreatedApiKey,
    /// Test, may write keys, in Billing; created a key itself.
    second: CreatedApiKey,
    /// Made by `second`.
    made_by_key: CreatedApiKey,
}

async fn trail(gatehouse: &Gatehouse, clock: &Clock) -> Trail {
    let (_, owner) = tenant_with_user(gatehouse, "owner@acme.test", Role::Owner, true).await;
    clock.advance_ms(1_000);
    let checkout = app_named(gatehouse, &owner, "Checkout").await;
    clock.advance_ms(1_000);
    let billing = app_named(gatehouse, &owner, "Billing").await;
    clock.advance_ms(1_000);
    let first = create_key(gatehouse, &owner, &checkout, KeyMode::Live, None).await;
    clock.advance_ms(1_000);
    let second = create_key(
        gatehouse,
        &owner,
        &billing,
        KeyMode::Test,
        Some(&["api_keys:write"]),
    )
    .await;
    clock.advance_ms(1_000);
    let update = ApiKeyUpdate {
        name: Some("Renamed".into()),
        ..ApiKeyUpdate::default()
    };
    gatehouse
        .update_api_key(&owner, &first.key.id, &update)
        .await
        .unwrap();
    clock.advance_ms(1_000);
    let second_actor = actor_for(gatehouse, &second.plaintext).await;
    let made_by_key = gatehouse
        .create_api_key(
            &second_actor,
            &key_input(&billing, KeyMode::Test, Some(&["api_keys:read"])),
        )
        .await
        .unwrap();
    clock.advance_ms(1_000);
    let first_actor = actor_for(gatehouse, &first.plaintext).await;
    let sent = EventInput {
        event_type: "payment_intent.succeeded".into(),
        data: json!({ "id": "pi_123", "customer_id": "cus_9", "amount": 4200 }),
    };
    gatehouse
        .send_event(&first_actor, &sent, None)
        .await
        .unwrap();
    clock.advance_ms(1_000);
    Trail {
        owner,
        checkout,
        billing,
        first,
        second,
        made_by_key,
    }
}

/// [`trail`] on a manual clock.
async fn with_trail(gatehouse: Gatehouse) -> (Gatehouse, Trail) {
    let (gatehouse, clock) = at_start(gatehouse);
    let trail = trail(&gatehouse, &clock).await;
    (gatehouse, trail)
}

on_both_engines!(
    each_filter_keeps_only_its_events_newest_first,
    |gatehouse: Gatehouse| async move {
        let (gatehouse, trail) = with_trail(gatehouse).await;
        let owner = &trail.owner;

        let everything = search(&gatehouse, owner, AuditFilter::default()).await;
        assert_eq!(
            types(&everything),
            [
                "event.sent",
                "api_key.created",
                "api_key.updated",
                "api_key.created",
                "api_key.created",
                "app.created",
                "app.created",
                "user.signed_in",
                "user.created",
                "tenant.created",
            ],
            "newest first"
        );
        assert!(
            everything
                .windows(2)
                .all(|pair| (pair[0].occurred_at, &pair[0].id) > (pair[1].occurred_at, &pair[1].id))
        );

        let updated = search(&gatehouse, owner, of_type(EventType::ApiKeyUpdated)).await;
        assert_eq!(types(&updated), ["api_key.updated"]);
        assert_eq!(
            updated[0].related_ids.get("key_id").map(String::as_str),
            Some(trail.first.key.id.as_str())
        );
        let changes = updated[0].changes();
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].field, "name");
        assert_eq!(changes[0].before.as_deref(), Some("Integration"));
        assert_eq!(changes[0].after.as_deref(), Some("Renamed"));

        let by_key = search(&gatehouse, owner, by_actor(&trail.second.key.id)).await;
        assert_eq!(types(&by_key), ["api_key.created"]);
        assert_eq!(
            by_key[0].related_ids["key_id"],
            trail.made_by_key.key.id.to_string()
        );
        let owner_id = owner.user_id().unwrap().to_string();
        let by_owner = search(&gatehouse, owner, by_actor(&owner_id)).await;
        assert_eq!(
            types(&by_owner),
            [
                "api_key.updated",
                "api_key.created",
                "api_key.created",
                "app.created",
                "app.created",
                "user.signed_in",
            ]
        );

        let about_first = search(&gatehouse, owner, about(&trail.first.key.id)).await;
        assert_eq!(types(&about_first), ["api_key.updated", "api_key.created"]);
        let in_checkout = search(&gatehouse, owner, about(&trail.checkout)).await;
        assert_eq!(
            types(&in_checkout),
            [
                "event.sent",
                "api_key.updated",
                "api_key.created",
                "app.created"
            ]
        );
        // The SaaS's own ids in the data of an event it sent find that event.
        for saas_id in ["pi_123", "cus_9"] {
            let found = search(&gatehouse, owner, about(saas_id)).await;
            assert_eq!(types(&found), ["event.sent"], "{saas_id}");
            assert_eq!(
                found[0].actor_id.as_deref(),
                Some(trail.first.key.id.as_str())
            );
            assert_eq!(
                found[0].message.as_deref(),
                Some("Event payment_intent.succeeded sent")
            );
            assert!(found[0].related_ids["event_id"].starts_with("evt_"));
        }
        let nothing = search(&gatehouse, owner, about("4200")).await;
        assert!(nothing.is_empty(), "amount is not an id field");

        // Filters combine: a related id and a type.
        let created_in_billing = search(
            &gatehouse,
            owner,
            AuditFilter {
                event_type: Some(EventType::ApiKeyCreated),
                ..about(&trail.billing)
            },
        )
        .await;
        assert_eq!(
            ids(&created_in_billing)
                .iter()
                .map(|id| everything.iter().position(|event| &event.id == id).unwrap())
                .collect::<Vec<_>>(),
            [1, 3],
            "the key made by a key, then the second key"
        );
    }
);

on_both_engines!(
    the_time_range_includes_from_and_excludes_to,
    |gatehouse: Gatehouse| async move {
        let (gatehouse, clock) = at_start(gatehouse);
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let mut made = Vec::new();
        for index in 1..=3 {
            clock.set_ms(START_MS + index * 60_000);
            made.push(app_named(&gatehouse, &owner, &format!("App {index}")).await);
        }
        let at = |minutes: i64| gatehouse_domain::time::from_ms(START_MS + minutes * 60_000);
        let apps_in = |from, to| {
            let gatehouse = gatehouse.clone();
            let owner = owner.clone();
            async move {
                search(
                    &gatehouse,
                    &owner,
                    AuditFilter {
                        event_type: Some(EventType::AppCreated),
                        from,
                        to,
                        ..AuditFilter::default()
                    },
                )
                .await
                .into_iter()
                .map(|event| event.app_id.unwrap())
                .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            apps_in(Some(at(2)), Some(at(3))).await,
            [made[1].clone()],
            "from is included, to is not"
        );
        assert_eq!(
            apps_in(Some(at(2)), None).await,
            [made[2].clone(), made[1].clone()]
        );
        assert_eq!(
            apps_in(None, Some(at(2))).await,
            [made[0].clone()],
            "an event exactly at `to` is left out"
        );
        let just_after = gatehouse_domain::time::from_ms(START_MS + 3 * 60_000 + 1);
        assert!(apps_in(Some(just_after), None).await.is_empty());
        for (from, to) in [(at(2), at(2)), (at(3), at(2))] {
            let refused = gatehouse
                .search_audit_events(
                    &owner,
                    &AuditFilter {
                        from: Some(from),
                        to: Some(to),
                        ..AuditFilter::default()
                    },
                    &PageRequest::default(),
                )
                .await;
            assert_eq!(refused_field(refused), "to");
        }
    }
);

on_both_engines!(
    pages_follow_the_cursor_and_inserts_shift_nothing,
    |gatehouse: Gatehouse| async move {
        let (gatehouse, clock) = at_start(gatehouse);
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let app = app_named(&gatehouse, &owner, "Checkout").await;
        // Several events in one millisecond: the id breaks the tie.
        for index in 0..6 {
            describe_app(&gatehouse, &owner, &app, format!("Checkout {index}")).await;
            if index % 2 == 1 {
                clock.advance_ms(1);
            }
        }
        let filter = about(&app);
        let expected = ids(&search(&gatehouse, &owner, filter.clone()).await);
        assert_eq!(expected.len(), 7);
        for filter in [filter, AuditFilter::default()] {
            let expected = ids(&search(&gatehouse, &owner, filter.clone()).await);
            let mut seen = Vec::new();
            let mut cursor = None;
            let mut pages = 0;
            loop {
                let page = gatehouse
                    .search_audit_events(
                        &owner,
                        &filter,
                        &PageRequest {
                            limit: Some(2),
                            cursor: cursor.clone(),
                        },
                    )
                    .await
                    .unwrap();
                pages += 1;
                assert!(page.data.len() <= 2);
                seen.extend(ids(&page.data));
                // Between pages, something new happens (newer than every page).
                clock.advance_ms(1);
                describe_app(&gatehouse, &owner, &app, format!("edit {pages}")).await;
                assert_eq!(page.has_more, page.next_cursor.is_some());
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            assert_eq!(
                seen, expected,
                "every event once, in order, nothing shifted"
            );
            assert_eq!(pages, expected.len().div_ceil(2));
        }
        // The newest events are there for a search that starts again.
        let first = search(&gatehouse, &owner, AuditFilter::default()).await;
        assert_eq!(first[0].after.as_ref().unwrap()["description"], "edit 7");
    }
);

on_both_engines!(
    the_limit_is_1_to_100_and_the_cursor_must_be_a_visible_event,
    |gatehouse: Gatehouse| async move {
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        let app = app_named(&gatehouse, &owner, "Checkout").await;
        for index in 0..101 {
            describe_app(&gatehouse, &owner, &app, format!("edit {index}")).await;
        }
        let page = |limit: Option<u32>, cursor: Option<&str>| PageRequest {
            limit,
            cursor: cursor.map(str::to_owned),
        };
        let all = AuditFilter::default();
        for limit in [0, 101, 1_000] {
            let refused = gatehouse
                .search_audit_events(&owner, &all, &page(Some(limit), None))
                .await;
            assert_eq!(refused_field(refused), "limit", "{limit}");
        }
        let full = gatehouse
            .search_audit_events(&owner, &all, &page(Some(100), None))
            .await
            .unwrap();
        assert_eq!(full.data.len(), 100);
        assert!(full.has_more);
        let default = gatehouse
            .search_audit_events(&owner, &all, &page(None, None))
            .await
            .unwrap();
        assert_eq!(default.data.len(), 100, "100 when left out");
        let one = gatehouse
            .search_audit_events(&owner, &all, &page(Some(1), None))
            .await
            .unwrap();
        assert_eq!(one.data.len(), 1);
        for cursor in ["not-an-id", "app_01jaaaaaaaaaaaaaaaaaaaaaaa"] {
            let refused = gatehouse
                .search_audit_events(&owner, &all, &page(Some(10), Some(cursor)))
                .await;
            assert_eq!(refused_field(refused), "cursor", "{cursor}");
        }
        // A well-formed id of no event of this tenant is refused too.
        let unknown = AuditEventId::from_body(&gatehouse_domain::ids::fresh_body());
        let refused = gatehouse
            .search_audit_events(&owner, &all, &page(Some(10), Some(unknown.as_str())))
            .await;
        assert_eq!(refused_field(refused), "cursor");

        for (filter, field) in [
            (by_actor("owner@acme.test"), "actor_id"),
            (about("has space"), "related_id"),
            (about(String::new()), "related_id"),
            (about("x".repeat(129)), "related_id"),
        ] {
            let refused = gatehouse
                .search_audit_events(&owner, &filter, &page(None, None))
                .await;
            assert_eq!(refused_field(refused), field);
        }
    }
);

on_both_engines!(
    another_tenant_sees_none_of_it,
    |gatehouse: Gatehouse| async move {
        let (gatehouse, trail) = with_trail(gatehouse).await;
        let (_, stranger) =
            tenant_with_user(&gatehouse, "owner@other.test", Role::Owner, true).await;
        app_named(&gatehouse, &stranger, "Theirs").await;

        let ours = ids(&search(&gatehouse, &trail.owner, AuditFilter::default()).await);
        let theirs = search(&gatehouse, &stranger, AuditFilter::default()).await;
        assert_eq!(
            types(&theirs),
            [
                "app.created",
                "user.signed_in",
                "user.created",
                "tenant.created"
            ]
        );
        assert!(theirs.iter().all(|event| !ours.contains(&event.id)));
        for related_id in [
            trail.first.key.id.to_string(),
            trail.checkout.to_string(),
            "pi_123".to_owned(),
        ] {
            let found = search(&gatehouse, &stranger, about(&related_id)).await;
            assert!(found.is_empty(), "{related_id}");
        }
        for actor_id in [
            trail.owner.user_id().unwrap().to_string(),
            trail.second.key.id.to_string(),
        ] {
            let found = search(&gatehouse, &stranger, by_actor(&actor_id)).await;
            assert!(found.is_empty(), "{actor_id}");
        }
        let refused = gatehouse
            .search_audit_events(
                &stranger,
                &AuditFilter::default(),
                &PageRequest {
                    limit: Some(1),
                    cursor: Some(ours[0].to_string()),
                },
            )
            .await;
        assert_eq!(
            refused_field(refused),
            "cursor",
            "another tenant's event is no cursor"
        );
    }
);

on_both_engines!(
    a_key_reads_only_its_own_app_and_mode,
    |gatehouse: Gatehouse| async move {
        let (gatehouse, trail) = with_trail(gatehouse).await;
        let owner = &trail.owner;
        let test_in_checkout =
            create_key(&gatehouse, owner, &trail.checkout, KeyMode::Test, None).await;
        let mut readers = Vec::new();
        for mode in [KeyMode::Live, KeyMode::Test] {
            let scopes: &[&str] = &["audit_events:read"];
            let reader = create_key(&gatehouse, owner, &trail.checkout, mode, Some(scopes)).await;
            readers.push(actor_for(&gatehouse, &reader.plaintext).await);
        }
        let (live_reader, test_reader) = (readers[0].clone(), readers[1].clone());

        let in_own_side = |events: &[AuditEventView], mode| {
            events.iter().all(|event| {
                event.app_id.as_ref() == Some(&trail.checkout) && event.mode == Some(mode)
            })
        };
        let live = search(&gatehouse, &live_reader, AuditFilter::default()).await;
        assert_eq!(
            types(&live),
            [
                "api_key.created",
                "event.sent",
                "api_key.updated",
                "api_key.created",
                "app.created",
            ],
            "Checkout's live events: the reader's own creation, the first key's, the app's"
        );
        assert!(in_own_side(&live, KeyMode::Live));

        let test = search(&gatehouse, &test_reader, AuditFilter::default()).await;
        assert_eq!(types(&test), ["api_key.created", "api_key.created"]);
        assert!(in_own_side(&test, KeyMode::Test));
        assert_eq!(
            test[1].related_ids["key_id"],
            test_in_checkout.key.id.to_string()
        );

        // Every filter stays within the key's app and mode.
        for filter in [
            about(&trail.second.key.id),
            about(&trail.billing),
            by_actor(&trail.second.key.id),
            of_type(EventType::UserSignedIn),
            about(&trail.first.key.id),
        ] {
            assert!(
                search(&gatehouse, &test_reader, filter.clone())
                    .await
                    .is_empty(),
                "{filter:?}"
            );
        }
        let about_first = search(&gatehouse, &live_reader, about(&trail.first.key.id)).await;
        assert_eq!(types(&about_first), ["api_key.updated", "api_key.created"]);
        let by_owner = search(
            &gatehouse,
            &live_reader,
            AuditFilter {
                event_type: Some(EventType::ApiKeyCreated),
                ..by_actor(owner.user_id().unwrap())
            },
        )
        .await;
        assert_eq!(by_owner.len(), 2);

        // A live event is no cursor for a test key.
        let refused = gatehouse
            .search_audit_events(
                &test_reader,
                &AuditFilter::default(),
                &PageRequest {
                    limit: Some(1),
                    cursor: Some(live[0].id.to_string()),
                },
            )
            .await;
        assert_eq!(refused_field(refused), "cursor");

        // Without the scope, the key is told which one it lacks.
        let writer = actor_for(&gatehouse, &trail.second.plaintext).await;
        let error = gatehouse
            .search_audit_events(&writer, &AuditFilter::default(), &PageRequest::default())
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::InsufficientScope);
        assert_eq!(
            error.to_detail().details.required_scope.as_deref(),
            Some("audit_events:read")
        );
    }
);

on_both_engines!(
    members_cannot_read_the_trail_and_it_stays_append_only,
    |gatehouse: Gatehouse| async move {
        let (_, owner) = tenant_with_user(&gatehouse, "owner@acme.test", Role::Owner, true).await;
        app_named(&gatehouse, &owner, "Checkout").await;
        let (_, member) =
            tenant_with_user(&gatehouse, "member@acme.test", Role::Member, true).await;
        let error = gatehouse
            .search_audit_events(&member, &AuditFilter::default(), &PageRequest::default())
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::PermissionDenied);

        let pool = gatehouse.db().pool_for_tests();
        let (refs,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_event_refs")
            .fetch_one(pool)
            .await
            .unwrap();
        assert!(refs > 0);
        for statement in [
            "UPDATE audit_event_refs SET ref_id = 'forged'",
            "DELETE FROM audit_event_refs",
            "UPDATE audit_events SET mode = 'test'",
        ] {
            assert!(
                sqlx::query(statement).execute(pool).await.is_err(),
                "{statement}"
            );
        }
    }
);
