//! The local gateway: nginx (Debian package) with a configuration rendered from one routing table,
//! the same table the operator renders as an Ingress. It rate-limits the API (429 + Retry-After), caps
//! request bodies per route, sets security headers (HSTS only over TLS) and passes an `X-Request-Id`
//! upstream. The store UI's hashed assets are served precompressed (brotli, gzip) and cached for a
//! year; `index.html` and other unhashed files are revalidated.

use std::path::{Path, PathBuf};
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
    /// The largest request body accepted (nginx size syntax); larger is a 413 at the gateway.
    pub max_body: &'static str,
}

/// The routing table.
pub const ROUTES: &[Route] = &[
    Route {
        location: "~ ^/api/users(/|$)",
        target: Target::Service("users"),
        max_body: "64k",
    },
    Route {
        location: "~ ^/api/catalog(/|$)",
        target: Target::Service("catalog"),
        // Image uploads: the catalog's own 10 MiB cap plus multipart framing.
        max_body: "11m",
    },
    Route {
        location: "~ ^/api/cart(/|$)",
        target: Target::Service("cart"),
        max_body: "64k",
    },
    Route {
        location: "~ ^/api/search(/|$)",
        target: Target::Service("search"),
        max_body: "64k",
    },
    Route {
        location: "/",
        target: Target::StoreUi,
        max_body: "16k",
    },
];

/// Requests per second per client address on the API, and how many may queue above that.
const RATE_LIMIT: &str = "50r/s";
const BURST: u32 = 100;
const RETRY_AFTER_SECONDS: u32 = 1;
/// The default for anything no route names.
const CLIENT_MAX_BODY_SIZE: &str = "16k";
/// Vite puts every content-hashed file here; they never change under their name.
const HASHED_ASSETS: &str = "/assets/";
/// Sent over TLS only (`$https` is empty on plain HTTP, and nginx omits a header with an empty value).
const HSTS: &str = "max-age=63072000; includeSubDomains";
/// Precompressed files (`.br`) are served by this module when installed.
const BROTLI_MODULE: &str = "/usr/lib/nginx/modules/ngx_http_brotli_static_module.so";

/// Sent with every response, errors included.
const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    (
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; \
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
            .chain([
                "        add_header Strict-Transport-Security $storefront_hsts always;\n"
                    .to_string(),
                "        add_header X-Request-Id $storefront_request_id always;\n".to_string(),
            ])
            .collect();
        let brotli = Path::new(BROTLI_MODULE).exists();
        let mut upstreams = String::new();
        let mut routes = String::new();
        for route in ROUTES {
            routes.push_str(&format!("        location {} {{\n", route.location));
            routes.push_str(&format!(
                "            client_max_body_size {};\n",
                route.max_body
            ));
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
                    // Unhashed files (index.html, favicon) are revalidated on every visit.
                    routes.push_str(&static_files(&root, brotli, "no-cache", &headers));
                    routes.push_str("            try_files $uri $uri/ /index.html;\n");
                    routes.push_str("        }\n");
                    routes.push_str(&format!("        location {HASHED_ASSETS} {{\n"));
                    routes.push_str(&static_files(
                        &root,
                        brotli,
                        "public, max-age=31536000, immutable",
                        &headers,
                    ));
                    routes.push_str("            try_files $uri =404;\n");
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
                (
                    "load_modules",
                    if brotli {
                        format!("load_module {BROTLI_MODULE};\n")
                    } else {
                        String::new()
                    },
                ),
                ("hsts", HSTS.to_string()),
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

/// A static-file location body: precompressed variants, a `Cache-Control`, and the security headers
/// again (an `add_header` in a location replaces the server's).
fn static_files(root: &Path, brotli: bool, cache_control: &str, headers: &str) -> String {
    let mut block = format!(
        "            root {};\n            gzip_static on;\n",
        root.display()
    );
    if brotli {
        block.push_str("            brotli_static on;\n");
    }
    block.push_str(&format!(
        "            add_header Cache-Control \"{cache_control}\" always;\n"
    ));
    block.push_str(&headers.replace("        add_header", "            add_header"));
    block
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
        vec![&system::NGINX, &system::NGINX_BROTLI]
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::Paths;
    use crate::system::Runner;

    /// A context whose data directory is a fresh temporary directory, with the real templates.
    fn ctx(name: &str) -> Ctx {
        let mut paths = Paths::from_env().expect("paths");
        paths.data =
            std::env::temp_dir().join(format!("xtask-gateway-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&paths.data);
        Ctx {
            paths,
            runner: Runner::Myself,
        }
    }

    fn locations(conf: &str) -> Vec<(&str, &str)> {
        conf.split("        location ")
            .skip(1)
            .filter_map(|block| block.split_once('{'))
            .map(|(matcher, body)| {
                (
                    matcher.trim(),
                    body.split("\n        }").next().unwrap_or(""),
                )
            })
            .collect()
    }

    #[test]
    fn every_api_route_is_rate_limited_and_capped() {
        let conf = Gateway.render_conf(&ctx("api")).expect("render");
        for route in ROUTES
            .iter()
            .filter(|r| matches!(r.target, Target::Service(_)))
        {
            let (_, body) = locations(&conf)
                .into_iter()
                .find(|(matcher, _)| *matcher == route.location)
                .unwrap_or_else(|| panic!("no location for {}", route.location));
            assert!(body.contains("client_max_body_size"), "{}", route.location);
            if services::by_name(match route.target {
                Target::Service(name) => name,
                Target::StoreUi => unreachable!(),
            })
            .is_some_and(|s| s.binary.is_some())
            {
                assert!(body.contains("limit_req zone=api"), "{}", route.location);
            }
        }
        assert!(conf.contains("limit_req_status 429;"));
        assert!(conf.contains("add_header Retry-After"));
    }

    #[test]
    fn hashed_assets_are_cached_for_a_year_and_pages_revalidated() {
        let conf = Gateway.render_conf(&ctx("assets")).expect("render");
        let all = locations(&conf);
        let (_, assets) = all
            .iter()
            .find(|(m, _)| *m == HASHED_ASSETS)
            .expect("an assets location");
        assert!(assets.contains("max-age=31536000, immutable"));
        assert!(assets.contains("gzip_static on;"));
        let (_, pages) = all.iter().find(|(m, _)| *m == "/").expect("a / location");
        assert!(pages.contains("Cache-Control \"no-cache\""));
        // add_header in a location replaces the server's: the security headers must be repeated.
        for body in [assets, pages] {
            for (name, _) in SECURITY_HEADERS {
                assert!(body.contains(&format!("add_header {name} ")), "{name}");
            }
            assert!(body.contains("Strict-Transport-Security $storefront_hsts"));
        }
    }

    #[test]
    fn hsts_is_sent_only_over_tls() {
        let conf = Gateway.render_conf(&ctx("hsts")).expect("render");
        assert!(conf.contains(&format!("on      \"{HSTS}\";")));
        assert!(conf.contains("default \"\";"));
        assert!(!conf.contains(&format!("add_header Strict-Transport-Security \"{HSTS}\"")));
    }

    #[test]
    fn the_rendered_configuration_is_valid_nginx() {
        if which::which("nginx").is_err() {
            eprintln!("nginx is not installed; `cargo xtask up` installs it");
            return;
        }
        let ctx = ctx("valid");
        let dir = Gateway::dir(&ctx);
        for sub in ["tmp", "logs", "html"] {
            std::fs::create_dir_all(dir.join(sub)).expect("dirs");
        }
        std::fs::create_dir_all(ctx.paths.data.join("logs")).expect("logs");
        std::fs::write(
            Gateway::conf(&ctx),
            Gateway.render_conf(&ctx).expect("render"),
        )
        .expect("write");
        let output = Gateway
            .nginx(&ctx)
            .args(["-t", "-q"])
            .output()
            .expect("run nginx -t");
        assert!(
            output.status.success(),
            "nginx -t: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let _ = std::fs::remove_dir_all(&ctx.paths.data);
    }
}
