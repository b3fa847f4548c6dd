//! The local gateway: nginx (Debian package) with a configuration rendered from one routing table,
//! the same table the operator renders as an Ingress. It rate-limits the API (429 + Retry-After), caps
//! request bodies, sets security headers and passes an `X-Request-Id` upstream.

use std::path::PathBuf;
use std::process::Command;

use anyhow::Result;
use nix::sys::signal::Signal;

use super::{
    Ctx, Part, ferretdb::FerretDb, opensearch::OpenSearch, postgres::Postgres,
    prometheus::Prometheus, redis::Redis, render_template, running_pid, write_if_changed,
};
use crate::ports::{self, PortSpec};
use crate::probe;
use crate::process;
use crate::services::{self, SERVICES};
use crate::system::{self, Package};

/// Where a path prefix goes.
pub enum Target {
    /// A platform service, by name in `services::SERVICES`; the full path is passed on.
    Service(&'static str),
    /// The store UI's built files (`services/store-ui/dist`), or a status page until they exist.
    StoreUi,
}

pub struct Route {
    /// The nginx location matcher: a service owns its path and everything under it.
    pub location: &'static str,
    pub target: Target,
}

/// The routing table.
pub const ROUTES: &[Route] = &[
    Route {
        location: "~ ^/api/users(/|$)",
        target: Target::Service("users"),
    },
    Route {
        location: "~ ^/api/catalog(/|$)",
        target: Target::Service("catalog"),
    },
    Route {
        location: "~ ^/api/cart(/|$)",
        target: Target::Service("cart"),
    },
    Route {
        location: "~ ^/api/search(/|$)",
        target: Target::Service("search"),
    },
    Route {
        location: "/",
        target: Target::StoreUi,
    },
];

/// Requests per second per client address on the API, and how many may queue above that.
const RATE_LIMIT: &str = "50r/s";
const BURST: u32 = 100;
const RETRY_AFTER_SECONDS: u32 = 1;
const CLIENT_MAX_BODY_SIZE: &str = "10m";

/// Sent with every response, errors included.
const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    (
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; \
         connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    ),
];

pub struct Gateway;

impl Gateway {
    fn dir(ctx: &Ctx) -> PathBuf {
        ctx.paths.data.join("nginx")
    }

    fn conf(ctx: &Ctx) -> PathBuf {
        Self::dir(ctx).join("nginx.conf")
    }

    fn store_ui_dist(ctx: &Ctx) -> PathBuf {
        ctx.paths.repo.join("services/store-ui/dist")
    }

    /// `nginx -p <dir> -c <conf> -e <error log>` plus `extra`.
    fn nginx(&self, ctx: &Ctx) -> Command {
        let mut nginx = Command::new("nginx");
        nginx
            .arg("-p")
            .arg(Self::dir(ctx))
            .arg("-c")
            .arg(Self::conf(ctx))
            .arg("-e")
            .arg(ctx.paths.log_file(self.name()));
        nginx
    }

    fn render_conf(&self, ctx: &Ctx) -> Result<String> {
        let headers: String = SECURITY_HEADERS
            .iter()
            .map(|(name, value)| format!("        add_header {name} \"{value}\" always;\n"))
            .chain(std::iter::once(
                "        add_header X-Request-Id $storefront_request_id always;\n".to_string(),
            ))
            .collect();
        let mut upstreams = String::new();
        let mut routes = String::new();
        for route in ROUTES {
            routes.push_str(&format!("        location {} {{\n", route.location));
            match route.target {
                Target::Service(name) => {
                    let service = services::by_name(name);
                    match service.filter(|s| s.binary.is_some()) {
                        Some(service) => {
                            upstreams.push_str(&format!(
                                "    upstream {name} {{\n        server 127.0.0.1:{};\n        keepalive 16;\n    }}\n",
                                service.port.get()?
                            ));
                            routes.push_str(&format!(
                                "            limit_req zone=api burst={BURST} nodelay;\n"
                            ));
                            routes.push_str(&proxy_block(name));
                        }
                        None => routes.push_str(&format!(
                            "            default_type application/problem+json;\n            \
                             return 503 '{{\"type\":\"about:blank\",\"title\":\"Service Unavailable\",\"status\":503,\
                             \"detail\":\"The {name} service is not part of the local stack yet.\"}}';\n"
                        )),
                    }
                }
                Target::StoreUi => {
                    let dist = Self::store_ui_dist(ctx);
                    let root = if dist.join("index.html").exists() {
                        dist
                    } else {
                        Self::dir(ctx).join("html")
                    };
                    routes.push_str(&format!(
                        "            root {};\n            try_files $uri $uri/ /index.html;\n",
                        root.display()
                    ));
                }
            }
            routes.push_str("        }\n");
        }
        render_template(
            ctx,
            "nginx/nginx.conf.tmpl",
            &[
                ("nginx_dir", Self::dir(ctx).display().to_string()),
                (
                    "error_log",
                    ctx.paths.log_file(self.name()).display().to_string(),
                ),
                ("port", ports::GATEWAY.get()?.to_string()),
                ("client_max_body_size", CLIENT_MAX_BODY_SIZE.to_string()),
                ("rate_limit", RATE_LIMIT.to_string()),
                ("retry_after_seconds", RETRY_AFTER_SECONDS.to_string()),
                ("security_headers", headers),
                ("upstreams", upstreams),
                ("routes", routes),
            ],
        )
    }

    /// The page served at `/` until the store UI is built: which parts were up when `up` ran.
    fn render_status_page(&self, ctx: &Ctx) -> Result<String> {
        let mut rows = String::new();
        let backing: [&dyn Part; 5] = [&Postgres, &Redis, &FerretDb, &OpenSearch, &Prometheus];
        for part in backing {
            let port = part
                .ports()
                .first()
                .map(|p| p.get())
                .transpose()?
                .unwrap_or_default();
            let up = running_pid(part, ctx).is_some() && part.healthy(ctx);
            rows.push_str(&row(part.name(), port, if up { "up" } else { "down" }));
        }
        for service in SERVICES {
            let state = match service.binary {
                None => "absent",
                Some(_) if services::is_ready(service) => "up",
                Some(_) => "down",
            };
            rows.push_str(&row(service.name, service.port.get()?, state));
        }
        render_template(ctx, "nginx/index.html.tmpl", &[("rows", rows)])
    }
}

fn proxy_block(upstream: &str) -> String {
    // The upstream's own copies of the headers the gateway sets would otherwise appear twice.
    let hide: String = SECURITY_HEADERS
        .iter()
        .map(|(name, _)| format!("            proxy_hide_header {name};\n"))
        .collect();
    format!(
        "            proxy_pass http://{upstream};\n\
         {hide}            proxy_hide_header X-Request-Id;\n\
         \x20           proxy_http_version 1.1;\n\
         \x20           proxy_set_header Connection \"\";\n\
         \x20           proxy_set_header Host $host;\n\
         \x20           proxy_set_header X-Request-Id $storefront_request_id;\n\
         \x20           proxy_set_header X-Forwarded-For $remote_addr;\n\
         \x20           proxy_set_header X-Forwarded-Proto $scheme;\n\
         \x20           proxy_connect_timeout 2s;\n\
         \x20           proxy_read_timeout 60s;\n"
    )
}

fn row(name: &str, port: u16, state: &str) -> String {
    let label = match state {
        "up" => "up",
        "down" => "not running",
        _ => "not built yet",
    };
    format!("<tr><td>{name}</td><td>127.0.0.1:{port}</td><td class=\"{state}\">{label}</td></tr>\n")
}

impl Part for Gateway {
    fn name(&self) -> &'static str {
        "gateway"
    }

    fn ports(&self) -> Vec<PortSpec> {
        vec![ports::GATEWAY]
    }

    fn process_hint(&self) -> &'static str {
        "nginx"
    }

    fn packages(&self, _ctx: &Ctx) -> Vec<&'static Package> {
        vec![&system::NGINX]
    }

    fn healthy(&self, _ctx: &Ctx) -> bool {
        ports::GATEWAY
            .get()
            .is_ok_and(|port| probe::http_ok(port, "/healthz"))
    }

    fn configure(&self, ctx: &Ctx) -> Result<bool> {
        let dir = Self::dir(ctx);
        for sub in ["tmp", "logs", "html"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        std::fs::write(dir.join("html/index.html"), self.render_status_page(ctx)?)?;
        let changed = write_if_changed(&Self::conf(ctx), &self.render_conf(ctx)?)?;
        if changed {
            process::run_quiet(self.nginx(ctx).args(["-t", "-q"]))?;
        }
        Ok(changed)
    }

    /// nginx re-reads its configuration on SIGHUP.
    fn reload_signal(&self) -> Option<Signal> {
        Some(Signal::SIGHUP)
    }

    fn start(&self, ctx: &Ctx) -> Result<u32> {
        let mut nginx = self.nginx(ctx);
        let child = process::spawn_server(&mut nginx, &ctx.paths.log_file(self.name()))?;
        Ok(child.id())
    }

    fn logs(&self, ctx: &Ctx) -> Vec<PathBuf> {
        vec![
            ctx.paths.log_file(self.name()),
            Self::dir(ctx).join("logs/access.log"),
        ]
    }
}
