//! Command-line interface (clap): the operator's subcommands.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use gatehouse_domain::tenants::{NewTenant, TenantUpdate};
use gatehouse_domain::webhooks::{DeliverySettings, Destinations, NetworkPolicy, WebhookSettings};
use gatehouse_domain::{Db, DbOptions, Gatehouse};
use gatehouse_model::{OperatorScope, OperatorTokenId, Plan, Role, SubscriptionState};

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "Self-hosted developer workspace and API platform layer"
)]
pub struct Cli {
    /// Optional TOML config file (layered under GATEHOUSE_* environment variables).
    #[arg(long, global = true, env = "GATEHOUSE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the dashboard and API (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Create a tenant and its shadow test tenant.
    CreateTenant {
        #[arg(long)]
        name: String,
        /// free, pro or enterprise.
        #[arg(long, default_value = "pro")]
        plan: String,
        /// Enabled modules, comma-separated (e.g. platform.api); empty for none.
        #[arg(long, default_value = "platform.api", value_delimiter = ',')]
        modules: Vec<String>,
    },
    /// Create a user with a role in a tenant; prints a generated password unless one is given.
    CreateUser {
        /// The tenant's id (ten_…) or exact name.
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        /// owner, manager or member.
        #[arg(long, default_value = "member")]
        role: String,
        /// The password; read from GATEHOUSE_NEW_USER_PASSWORD if set there.
        #[arg(long, env = "GATEHOUSE_NEW_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Change a tenant's plan, modules, subscription state or monthly limit; running
    /// servers honour it within a second.
    UpdateTenant {
        /// The tenant's id (ten_…) or exact name.
        #[arg(long)]
        tenant: String,
        /// free, pro or enterprise.
        #[arg(long)]
        plan: Option<String>,
        /// Enabled modules, comma-separated (e.g. platform.api); "" for none.
        #[arg(long, value_delimiter = ',')]
        modules: Option<Vec<String>>,
        /// trialing, active, past_due or canceled.
        #[arg(long)]
        subscription_state: Option<String>,
        /// Live platform calls allowed per calendar month (UTC).
        #[arg(long)]
        monthly_limit: Option<i64>,
        /// Apps the tenant may have (100 by default).
        #[arg(long)]
        max_apps: Option<i64>,
        /// Webhook endpoints the tenant may have across its apps (500 by default).
        #[arg(long)]
        max_webhook_endpoints: Option<i64>,
        /// Test-mode events the tenant may send per calendar month (100,000 by default).
        #[arg(long)]
        monthly_test_events: Option<i64>,
        /// true suspends the tenant (keys refused, deliveries waiting, the dashboard
        /// read-only); false lifts it.
        #[arg(long)]
        suspended: Option<bool>,
        /// The day of the month (1 to 28) the billing window starts, 00:00 UTC.
        #[arg(long)]
        billing_anchor_day: Option<u32>,
    },
    /// Make a token for the SaaS's backend to call /operator/v1 with; it is printed
    /// once and only its digest is kept.
    CreateOperatorToken {
        /// What the token is for, e.g. "billing-service"; audited as operator:<name>.
        #[arg(long)]
        name: String,
        /// Comma-separated scopes: tenants:read, tenants:write, tenants:delete,
        /// people:write, sign_in_links:create, events:write. All but tenants:delete
        /// when left out.
        #[arg(long, value_delimiter = ',')]
        scopes: Vec<String>,
    },
    /// List the operator tokens (never their secrets).
    ListOperatorTokens,
    /// Revoke an operator token for good: it fails from the next request.
    RevokeOperatorToken {
        /// The token's id (opt_…), as list-operator-tokens shows it.
        #[arg(long)]
        id: String,
    },
}

/// A tenant named by id (`ten_…`) or exact name.
async fn find_tenant(
    gatehouse: &Gatehouse,
    tenant: &str,
) -> Result<gatehouse_model::TenantId, String> {
    match gatehouse_model::TenantId::parse(tenant) {
        Ok(id) => Ok(id),
        Err(_) => gatehouse
            .operator()
            .tenant_id_by_name(tenant)
            .await
            .map_err(|error| error.to_detail().message),
    }
}

/// An operator-facing message for a refused command: the field at fault, if one is.
fn refusal(error: gatehouse_domain::DomainError) -> String {
    let detail = error.to_detail();
    match detail.details.fields.first() {
        Some(field) => format!("{}: {}", field.field, field.message),
        None => detail.message,
    }
}

/// The tracing filter for `log`: the MCP SDK (`rmcp`) writes a few INFO lines per
/// session, so it logs warnings only unless the filter names it.
fn log_filter(log: &str) -> String {
    if log.contains("rmcp") {
        log.to_owned()
    } else {
        format!("rmcp=warn,{log}")
    }
}

fn init_tracing(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(log_filter(&config.log))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(log_filter("info")));
    // Log lines go to stderr, what a command prints to stdout; colour codes only on a
    // terminal, so a log file or a collector gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if config.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn open(config: &Config) -> Result<Gatehouse, String> {
    let options = DbOptions {
        max_connections: config.database_max_connections,
        postgres_schema: None,
    };
    let master_keys = crate::master_key::load(config)?;
    let db = Db::connect(&config.database_url.0, options)
        .await
        .map_err(|error| format!("cannot open the database: {error}"))?;
    db.migrate()
        .await
        .map_err(|error| format!("migrations failed: {error}"))?;
    let policy = NetworkPolicy::parse(&config.webhook_allow_networks)
        .map_err(|error| format!("GATEHOUSE_WEBHOOK_ALLOW_NETWORKS is invalid: {error}"))?;
    let gatehouse = Gatehouse::new(db)
        .with_webhooks(WebhookSettings {
            master_keys: Some(master_keys),
            destinations: Destinations {
                policy: std::sync::Arc::new(policy),
                ..Destinations::default()
            },
            delivery: DeliverySettings {
                lease: std::time::Duration::from_secs(config.webhook_lease_seconds),
                ..DeliverySettings::default()
            },
        })
        .with_request_log(
            gatehouse_domain::request_log::BUFFER_CAPACITY,
            config.request_log_retention_days,
        );
    let mailer = (!config.smtp_url.0.is_empty())
        .then(|| {
            gatehouse_domain::alerts::AlertMailer::new(
                &config.smtp_url.0,
                &config.smtp_from,
                &config.dashboard_url(),
            )
        })
        .transpose()?;
    let gatehouse = gatehouse.with_alert_mailer(mailer);
    if config.scope_catalog.is_empty() {
        return Ok(gatehouse);
    }
    let catalog = gatehouse_domain::catalog::load(std::path::Path::new(&config.scope_catalog))
        .map_err(|error| error.to_string())?;
    Ok(gatehouse.with_scope_catalog(catalog))
}

pub async fn run(cli: Cli) -> Result<(), String> {
    let config = Config::load(cli.config.as_deref()).map_err(|error| error.to_string())?;
    init_tracing(&config);
    tracing::debug!(?config, "configuration loaded");
    let gatehouse = open(&config).await?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let password =
                Some(config.bootstrap_password.0.clone()).filter(|value| !value.is_empty());
            if let Some(owner) = gatehouse
                .operator()
                .bootstrap_demo(password)
                .await
                .map_err(|error| error.to_string())?
            {
                // Printed once, on stdout and not in the structured log.
                println!(
                    "Demo sign-in: email {} password {}",
                    owner.email, owner.password
                );
            }
            crate::serve::serve(&config, gatehouse).await
        }
        Command::Migrate => {
            println!("Migrations applied.");
            Ok(())
        }
        Command::CreateTenant {
            name,
            plan,
            modules,
        } => {
            let plan = Plan::parse(&plan)
                .ok_or(format!("unknown plan {plan}: use free, pro or enterprise"))?;
            let modules: Vec<&str> = modules
                .iter()
                .map(String::as_str)
                .filter(|module| !module.is_empty())
                .collect();
            let tenant_id = gatehouse
                .operator()
                .create_tenant(NewTenant::new(&name, plan, &modules))
                .await
                .map_err(|error| error.to_detail().message)?;
            println!("{tenant_id}");
            Ok(())
        }
        Command::CreateUser {
            tenant,
            email,
            role,
            password,
        } => {
            let role = Role::parse(&role)
                .ok_or(format!("unknown role {role}: use owner, manager or member"))?;
            let tenant_id = find_tenant(&gatehouse, &tenant).await?;
            let user = gatehouse
                .operator()
                .create_user(&tenant_id, &email, role, password)
                .await
                .map_err(refusal)?;
            if user.password_was_generated {
                println!(
                    "Created {} ({}) with password {}",
                    user.email, user.user_id, user.password
                );
            } else {
                println!("Created {} ({})", user.email, user.user_id);
            }
            Ok(())
        }
        Command::UpdateTenant {
            tenant,
            plan,
            modules,
            subscription_state,
            monthly_limit,
            max_apps,
            max_webhook_endpoints,
            monthly_test_events,
            suspended,
            billing_anchor_day,
        } => {
            let tenant_id = find_tenant(&gatehouse, &tenant).await?;
            let update = TenantUpdate {
                name: None,
                plan: plan
                    .map(|plan| {
                        Plan::parse(&plan)
                            .ok_or(format!("unknown plan {plan}: use free, pro or enterprise"))
                    })
                    .transpose()?,
                modules: modules.map(|modules| {
                    modules
                        .into_iter()
                        .filter(|module| !module.is_empty())
                        .collect()
                }),
                subscription_state: subscription_state
                    .map(|state| {
                        SubscriptionState::parse(&state).ok_or(format!(
                            "unknown subscription state {state}: use trialing, active, past_due or canceled"
                        ))
                    })
                    .transpose()?,
                monthly_call_limit: monthly_limit,
                max_apps,
                max_webhook_endpoints,
                monthly_test_events,
                suspended,
                billing_anchor_day,
            };
            let tenant = gatehouse
                .operator()
                .update_tenant(&tenant_id, &update)
                .await
                .map_err(refusal)?;
            println!(
                "Updated {}: plan {}, modules [{}], subscription {}, monthly limit {}, at most {} apps, {} webhook endpoints and {} test events a month",
                tenant.id,
                tenant.plan.as_str(),
                tenant.modules.join(","),
                tenant.subscription_state.as_str(),
                tenant.monthly_call_limit,
                tenant.caps.max_apps,
                tenant.caps.max_webhook_endpoints,
                tenant.caps.monthly_test_events
            );
            Ok(())
        }
        Command::CreateOperatorToken { name, scopes } => {
            let scopes = scopes
                .iter()
                .filter(|scope| !scope.is_empty())
                .map(|scope| {
                    OperatorScope::parse(scope).ok_or(format!(
                        "unknown scope {scope}: use {}",
                        OperatorScope::ALL
                            .iter()
                            .map(|scope| scope.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let created = gatehouse
                .operator()
                .create_operator_token(&name, &scopes)
                .await
                .map_err(refusal)?;
            println!(
                "Created operator token {} ({}) with scopes {}. It is shown once:\n{}",
                created.view.id,
                created.view.name,
                scope_list(&created.view.scopes),
                created.token
            );
            Ok(())
        }
        Command::ListOperatorTokens => {
            let tokens = gatehouse
                .operator()
                .list_operator_tokens()
                .await
                .map_err(refusal)?;
            if tokens.is_empty() {
                println!("No operator tokens.");
            }
            for token in tokens {
                let state = match (token.revoked_at, token.last_used_at) {
                    (Some(revoked_at), _) => format!("revoked {}", revoked_at.to_rfc3339()),
                    (None, Some(used)) => format!("last used {}", used.to_rfc3339()),
                    (None, None) => "never used".to_owned(),
                };
                println!(
                    "{}  {}  [{}]  created {}  {}",
                    token.id,
                    token.name,
                    scope_list(&token.scopes),
                    token.created_at.to_rfc3339(),
                    state
                );
            }
            Ok(())
        }
        Command::RevokeOperatorToken { id } => {
            let id = OperatorTokenId::parse(&id)
                .map_err(|_| format!("{id} is not an operator token id (opt_…)"))?;
            let token = gatehouse
                .operator()
                .revoke_operator_token(&id)
                .await
                .map_err(refusal)?;
            println!("Revoked operator token {} ({}).", token.id, token.name);
            Ok(())
        }
    }
}

fn scope_list(scopes: &[OperatorScope]) -> String {
    scopes
        .iter()
        .map(|scope| scope.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::log_filter;

    #[test]
    fn the_mcp_sdk_logs_warnings_only_unless_the_filter_names_it() {
        assert_eq!(log_filter("info"), "rmcp=warn,info");
        assert_eq!(log_filter("gatehouse=debug"), "rmcp=warn,gatehouse=debug");
        assert_eq!(log_filter("info,rmcp=debug"), "info,rmcp=debug");
        for filter in ["info", "warn,gatehouse=debug"] {
            assert!(tracing_subscriber::EnvFilter::try_new(log_filter(filter)).is_ok());
        }
    }
}
