//! Every port the local stack listens on (all on 127.0.0.1), each overridable by one environment variable.
//! This table is the single source of truth: the README's ports table and the tests' defaults follow it.

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{Context, Result, bail};

#[derive(Debug, Clone, Copy)]
pub struct PortSpec {
    /// The environment variable that overrides the default.
    pub env: &'static str,
    pub default: u16,
}

pub const POSTGRES: PortSpec = spec("STOREFRONT_PORT_POSTGRES", 15432);
pub const REDIS: PortSpec = spec("STOREFRONT_PORT_REDIS", 16379);
pub const FERRETDB: PortSpec = spec("STOREFRONT_PORT_FERRETDB", 27018);
pub const OPENSEARCH: PortSpec = spec("STOREFRONT_PORT_OPENSEARCH", 19200);
pub const OPENSEARCH_TRANSPORT: PortSpec = spec("STOREFRONT_PORT_OPENSEARCH_TRANSPORT", 19300);
pub const S3: PortSpec = spec("STOREFRONT_PORT_S3", 19000);
pub const PROMETHEUS: PortSpec = spec("STOREFRONT_PORT_PROMETHEUS", 19090);
pub const GATEWAY: PortSpec = spec("STOREFRONT_PORT_GATEWAY", 8080);
pub const USERS: PortSpec = spec("STOREFRONT_PORT_USERS", 18081);
pub const CATALOG: PortSpec = spec("STOREFRONT_PORT_CATALOG", 18082);
pub const CART: PortSpec = spec("STOREFRONT_PORT_CART", 18083);
pub const SEARCH: PortSpec = spec("STOREFRONT_PORT_SEARCH", 18084);

const fn spec(env: &'static str, default: u16) -> PortSpec {
    PortSpec { env, default }
}

impl PortSpec {
    /// The port to use: the environment variable when set, else the default.
    pub fn get(&self) -> Result<u16> {
        match std::env::var(self.env) {
            Ok(value) if !value.is_empty() => value
                .parse::<u16>()
                .ok()
                .filter(|port| *port != 0)
                .with_context(|| format!("{}={value:?} is not a port number", self.env)),
            _ => Ok(self.default),
        }
    }

    /// Fails with one line naming the port and the variable to change when something else listens there.
    pub fn ensure_free(&self, part: &str) -> Result<u16> {
        let port = self.get()?;
        if answers(port) {
            bail!(
                "port {port} (for {part}) is already in use by another process; stop it or set {}=<free port>",
                self.env
            );
        }
        Ok(port)
    }
}

/// `STOREFRONT_NODE_ADDRESS`: the address of this machine that pods of the real local node reach
/// it by. When set, the databases listen there too (PostgreSQL, Redis and OpenSearch on it,
/// FerretDB, which takes one address, on all); otherwise everything stays on loopback.
pub fn node_address() -> Result<Option<Ipv4Addr>> {
    if let Some(address) = NODE_ADDRESS_SET.get() {
        return Ok(Some(*address));
    }
    match std::env::var(NODE_ADDRESS) {
        Ok(value) if !value.is_empty() => value
            .parse()
            .map(Some)
            .with_context(|| format!("{NODE_ADDRESS}={value:?} is not an IPv4 address")),
        _ => Ok(None),
    }
}

pub const NODE_ADDRESS: &str = "STOREFRONT_NODE_ADDRESS";

/// The node address this run decided on (the real node is being started or tested).
static NODE_ADDRESS_SET: std::sync::OnceLock<Ipv4Addr> = std::sync::OnceLock::new();

/// From now on the databases this process starts listen on `address` too.
pub fn set_node_address(address: Ipv4Addr) {
    let _ = NODE_ADDRESS_SET.set(address);
}

/// Whether something accepts TCP connections on `address:port`.
pub fn answers_on(address: Ipv4Addr, port: u16) -> bool {
    let addr = SocketAddr::from((address, port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok()
}

/// Whether something accepts TCP connections on 127.0.0.1:port.
pub fn answers(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok()
}
