//! Where webhooks may be sent: the destination URL's rules, the addresses
//! no delivery may reach (private, loopback, link-local, CGNAT, multicast, unique-local,
//! cloud metadata, …) unless the operator allows their network, and the resolver the
//! HTTP client connects through, which checks every address after DNS resolution so a
//! name that changes its answer (DNS rebinding) cannot get through either.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use gatehouse_model::KeyMode;
use ipnet::IpNet;
use url::Url;

pub const MAX_URL_CHARS: usize = 2048;
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// Why an address may not be reached, or `None` when it is a public unicast address.
pub fn forbidden_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            // Addresses that carry an IPv4 address are judged by it.
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            let segments = v6.segments();
            if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [a, b] = segments[6].to_be_bytes();
                let [c, d] = segments[7].to_be_bytes();
                return forbidden_v4(Ipv4Addr::new(a, b, c, d)).or(Some("NAT64"));
            }
            if segments[..3] == [0x64, 0xff9b, 1] {
                // Local-use NAT64 (RFC 8215): an operator's own translator.
                return Some("NAT64 (local use)");
            }
            if segments[..6] == [0, 0, 0, 0, 0xffff, 0] {
                // IPv4-translated (RFC 2765), a form of an IPv4 address for translators.
                return Some("IPv4-translated");
            }
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if v6.is_multicast() {
                Some("multicast")
            } else if segments[0] & 0xfe00 == 0xfc00 {
                Some("unique-local (private)")
            } else if segments[0] & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if segments[0] & 0xffc0 == 0xfec0 {
                Some("site-local")
            } else if segments[0] == 0x2002 || segments[..2] == [0x2001, 0] {
                Some("a tunnel (6to4 or Teredo)")
            } else if segments[..2] == [0x2001, 0xdb8] {
                Some("documentation")
            } else if v6.to_ipv4().is_some() && segments[..6] == [0; 6] {
                Some("IPv4-compatible")
            } else {
                None
            }
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    if ip == Ipv4Addr::new(169, 254, 169, 254) {
        Some("cloud metadata")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if a == 100 && (64..128).contains(&b) {
        Some("shared (CGNAT)")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if ip.is_broadcast() || a == 0 || a >= 240 {
        Some("reserved")
    } else if (a, b, c) == (192, 0, 0)
        || (a, b, c) == (192, 0, 2)
        || (a, b, c) == (198, 51, 100)
        || (a, b, c) == (203, 0, 113)
    {
        Some("reserved for documentation or protocols")
    } else if a == 198 && (b == 18 || b == 19) {
        Some("benchmarking")
    } else {
        None
    }
}

/// The operator's exceptions: networks deliveries may reach although their addresses
/// are forbidden (`GATEHOUSE_WEBHOOK_ALLOW_NETWORKS`, e.g. `10.1.0.0/16,127.0.0.1`).
/// Plain http is allowed for live endpoints whose host is in them too.
#[derive(Debug, Clone, Default)]
pub struct NetworkPolicy {
    allowed: Vec<IpNet>,
}

impl NetworkPolicy {
    /// Reads a comma-separated list of CIDRs or single addresses.
    pub fn parse(setting: &str) -> Result<Self, String> {
        let mut allowed = Vec::new();
        for part in setting
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
        {
            let network = part
                .parse::<IpNet>()
                .or_else(|_| part.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    format!("{part} is not a network (use e.g. 10.0.0.0/8 or 127.0.0.1)")
                })?;
            allowed.push(network);
        }
        Ok(Self { allowed })
    }

    /// Whether the operator allowed any network (whose addresses live endpoints may
    /// reach over plain http).
    pub fn allows_any_network(&self) -> bool {
        !self.allowed.is_empty()
    }

    /// Whether the operator allowed the network of `ip`.
    pub fn allows_network(&self, ip: IpAddr) -> bool {
        self.allowed.iter().any(|network| network.contains(&ip))
    }

    /// Whether a delivery may connect to `ip`; the reason when not.
    pub fn check(&self, ip: IpAddr) -> Result<(), String> {
        match forbidden_reason(ip) {
            Some(reason) if !self.allows_network(ip) => Err(format!(
                "{ip} is a {reason} address, which webhooks may not reach"
            )),
            _ => Ok(()),
        }
    }
}

/// A boxed future, as the resolver hook returns.
pub type LookupFuture = Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>>;

/// Turns a host name into addresses: the system's resolver in production, a stub in
/// tests (so a test never depends on, or reaches, a real name).
pub trait Lookup: Send + Sync + 'static {
    fn lookup(&self, host: &str) -> LookupFuture;
}

/// The operating system's resolver.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, host: &str) -> LookupFuture {
        let host = host.to_owned();
        Box::pin(async move {
            let addresses = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addresses.map(|address| address.ip()).collect())
        })
    }
}

/// A fixed table of answers (tests).
#[derive(Debug, Clone, Default)]
pub struct StaticLookup(pub std::collections::HashMap<String, Vec<IpAddr>>);

impl Lookup for StaticLookup {
    fn lookup(&self, host: &str) -> LookupFuture {
        let answer = self.0.get(host).cloned();
        Box::pin(async move {
            answer.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no such host"))
        })
    }
}

/// The network side of webhooks: the policy and the resolver, shared by the save-time
/// check and the HTTP client's connect-time check.
#[derive(Clone)]
pub struct Destinations {
    pub policy: Arc<NetworkPolicy>,
    pub lookup: Arc<dyn Lookup>,
}

impl Default for Destinations {
    fn default() -> Self {
        Self {
            policy: Arc::default(),
            lookup: Arc::new(SystemLookup),
        }
    }
}

impl Destinations {
    /// Resolves `host` and keeps only the addresses deliveries may reach; an error when
    /// none is left. For an address typed as such the message says why it is refused;
    /// for a host name it never names what the name resolved to (that would tell anyone
    /// who saves an endpoint what internal names resolve to).
    pub async fn permitted_addresses(&self, host: &str) -> Result<Vec<IpAddr>, String> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let literal = host.parse::<IpAddr>().ok();
        let addresses = match literal {
            Some(ip) => vec![ip],
            None => tokio::time::timeout(LOOKUP_TIMEOUT, self.lookup.lookup(host))
                .await
                .map_err(|_| "the host name did not resolve in time".to_owned())?
                .map_err(|_| "the host name does not resolve".to_owned())?,
        };
        let mut refusals = Vec::new();
        let permitted: Vec<IpAddr> = addresses
            .into_iter()
            .filter(|ip| match self.policy.check(*ip) {
                Ok(()) => true,
                Err(why) => {
                    refusals.push(why);
                    false
                }
            })
            .collect();
        if permitted.is_empty() {
            return Err(match refusals.first() {
                None => "the host name does not resolve".to_owned(),
                Some(why) if literal.is_some() => why.clone(),
                Some(_) => "the host name resolves to a private or reserved address".to_owned(),
            });
        }
        Ok(permitted)
    }

    /// Checks a destination URL when an endpoint is saved: http(s), no credentials or
    /// fragment, https for live endpoints (unless every address is in an allowed
    /// network), and an address deliveries may reach. Returns the normalized URL.
    pub async fn check_url(&self, typed: &str, mode: KeyMode) -> Result<String, String> {
        let typed = typed.trim();
        if typed.is_empty() {
            return Err("Enter the URL that receives the webhooks.".to_owned());
        }
        if typed.chars().count() > MAX_URL_CHARS {
            return Err(format!("Use at most {MAX_URL_CHARS} characters."));
        }
        let url = Url::parse(typed)
            .map_err(|_| "This is not a URL: use e.g. https://example.com/webhooks.".to_owned())?;
        if url.scheme() != "https" && url.scheme() != "http" {
            return Err(
                "The URL must start with https:// (or http:// for test endpoints).".to_owned(),
            );
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("The URL may not hold a user name or password.".to_owned());
        }
        if url.fragment().is_some() {
            return Err("The URL may not hold a #fragment.".to_owned());
        }
        let Some(host) = url.host_str() else {
            return Err("The URL has no host.".to_owned());
        };
        let addresses = self
            .permitted_addresses(host)
            .await
            .map_err(|why| format!("This destination is not allowed: {why}."))?;
        if url.scheme() == "http"
            && mode == KeyMode::Live
            && !addresses.iter().all(|ip| self.policy.allows_network(*ip))
        {
            return Err("Live endpoints must use https://.".to_owned());
        }
        Ok(url.to_string())
    }
}

impl Destinations {
    /// The connect-time check for a URL whose host is an IP literal (the HTTP client
    /// resolves nothing for those, so its resolver hook never sees them): the policy of
    /// now applies, whatever it was when the endpoint was saved.
    pub fn check_literal_host(&self, url: &str) -> Result<(), String> {
        let Ok(url) = Url::parse(url) else {
            return Err("the URL cannot be read".to_owned());
        };
        match url.host() {
            Some(url::Host::Ipv4(ip)) => self.policy.check(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => self.policy.check(IpAddr::V6(ip)),
            _ => Ok(()),
        }
    }
}

/// The HTTP client's resolver hook: every connection's addresses pass the policy.
pub(crate) struct GuardedResolver(pub Destinations);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let destinations = self.0.clone();
        Box::pin(async move {
            let permitted = destinations
                .permitted_addresses(name.as_str())
                .await
                .map_err(|why| -> Box<dyn std::error::Error + Send + Sync> { why.into() })?;
            let addresses: reqwest::dns::Addrs = Box::new(
                permitted
                    .into_iter()
                    .map(|ip| SocketAddr::new(ip, 0))
                    .collect::<Vec<_>>()
                    .into_iter(),
            );
            Ok(addresses)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn internal_addresses_are_forbidden_and_public_ones_are_not() {
        for internal in [
            "127.0.0.1",
            "127.0.0.2",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.1.1",
            "100.64.0.1",
            "224.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd00:ec2::254",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2002:a00:1::",
            "198.18.0.1",
            "64:ff9b:1::5db8:d822",
            "64:ff9b:1:ffff::1",
            "fec0::1",
            "fefe::1",
            "::ffff:0:5db8:d822",
            "::ffff:0:a00:1",
        ] {
            assert!(
                forbidden_reason(ip(internal)).is_some(),
                "{internal} passed"
            );
        }
        for public in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "100.128.0.1",
        ] {
            assert_eq!(forbidden_reason(ip(public)), None, "{public}");
        }
        assert_eq!(
            forbidden_reason(ip("169.254.169.254")),
            Some("cloud metadata")
        );
    }

    #[test]
    fn the_operator_allows_networks_exactly() {
        let policy = NetworkPolicy::parse("127.0.0.1, 10.1.0.0/16").unwrap();
        assert!(policy.check(ip("127.0.0.1")).is_ok());
        assert!(policy.check(ip("10.1.200.3")).is_ok());
        assert!(policy.check(ip("127.0.0.2")).is_err());
        assert!(policy.check(ip("10.2.0.1")).is_err());
        assert!(policy.check(ip("::1")).is_err());
        assert!(NetworkPolicy::parse("nope").is_err());
    }

    fn destinations(table: &[(&str, &str)], allowed: &str) -> Destinations {
        let mut answers = std::collections::HashMap::new();
        for (host, address) in table {
            answers
                .entry(host.to_string())
                .or_insert_with(Vec::new)
                .push(ip(address));
        }
        Destinations {
            policy: Arc::new(NetworkPolicy::parse(allowed).unwrap()),
            lookup: Arc::new(StaticLookup(answers)),
        }
    }

    #[tokio::test]
    async fn urls_are_checked_after_resolution() {
        let destinations = destinations(
            &[
                ("metadata.example", "169.254.169.254"),
                ("internal.example", "10.0.0.7"),
                ("public.example", "93.184.216.34"),
                ("mixed.example", "93.184.216.34"),
                ("mixed.example", "10.0.0.7"),
            ],
            "127.0.0.1",
        );
        let live = KeyMode::Live;
        let check = |url: &'static str, mode| {
            let destinations = destinations.clone();
            async move { destinations.check_url(url, mode).await }
        };
        assert!(check("https://public.example/hooks", live).await.is_ok());
        // A host name's refusal never says what it resolved to.
        for name in ["https://metadata.example/", "https://internal.example/"] {
            let refused = check(name, live).await.unwrap_err();
            assert_eq!(
                refused,
                "This destination is not allowed: the host name resolves to a private or reserved address."
            );
        }
        // An address typed as such is refused with its reason.
        assert!(
            check("https://169.254.169.254/", live)
                .await
                .unwrap_err()
                .contains("metadata")
        );
        assert!(
            check("https://127.0.0.2:9/", live)
                .await
                .unwrap_err()
                .contains("loopback")
        );
        assert!(
            check("https://[::1]:9/", live)
                .await
                .unwrap_err()
                .contains("loopback")
        );
        assert!(
            check("http://public.example/", live)
                .await
                .unwrap_err()
                .contains("https")
        );
        assert!(check("http://public.example/", KeyMode::Test).await.is_ok());
        // An allowed network may take plain http, live too.
        assert!(check("http://127.0.0.1:9/hook", live).await.is_ok());
        assert!(
            check("https://user:pw@public.example/", live)
                .await
                .is_err()
        );
        assert!(check("ftp://public.example/", live).await.is_err());
        assert!(
            check("https://nowhere.example/", live)
                .await
                .unwrap_err()
                .contains("resolve")
        );
        // Mixed answers keep only the public address for connecting.
        assert_eq!(
            destinations
                .permitted_addresses("mixed.example")
                .await
                .unwrap(),
            vec![ip("93.184.216.34")]
        );
    }
}
