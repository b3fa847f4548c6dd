//! One of the platform's services, run from the workspace's debug build with its configuration in
//! environment variables (storefront-kit's `<PREFIX>_*` convention).

use std::process::Command;

use anyhow::{Context, Result, bail};

use super::{Ctx, Part, ferretdb, opensearch, postgres, redis};
use crate::ports::{self, PortSpec};
use crate::process;
use crate::services::{self, Service, Wire};

pub struct ServicePart(pub &'static Service);

impl ServicePart {
    fn binary(&self) -> Result<&'static str> {
        self.0
            .binary
            .with_context(|| format!("service {} has no binary yet", self.0.name))
    }

    /// What the service is told: where to listen, where its stores and the other services are.
    fn environment(&self, ctx: &Ctx) -> Result<Vec<(String, String)>> {
        let service = self.0;
        let var = |name: &str| format!("{}_{name}", service.env_prefix);
        let mut env = vec![(
            var("LISTEN_ADDR"),
            format!("127.0.0.1:{}", service.port.get()?),
        )];
        for (name, wire) in service.env {
            let value = match *wire {
                Wire::Postgres(database) => postgres::url(database)?,
                Wire::Redis => redis::url()?,
                Wire::MongoDb => ferretdb::url()?,
                Wire::SearchEngine => opensearch::url()?,
                Wire::Service(other) => service_url(other)?,
                Wire::Jwks => format!("{}/.well-known/jwks.json", service_url("users")?),
                Wire::Gateway => format!("http://127.0.0.1:{}", ports::GATEWAY.get()?),
                Wire::Dir(sub) => {
                    let dir = ctx.paths.data.join("services").join(service.name).join(sub);
                    std::fs::create_dir_all(&dir)?;
                    dir.display().to_string()
                }
                Wire::Value(value) => value.to_owned(),
            };
            env.push((var(name), value));
        }
        Ok(env)
    }
}

impl ServicePart {
    /// The service's binary with its working directory and configuration.
    fn command(&self, ctx: &Ctx) -> Result<Command> {
        let binary = ctx
            .paths
            .cargo_target_dir()
            .join("debug")
            .join(self.binary()?);
        if !binary.exists() {
            bail!(
                "{} is missing: the workspace build did not produce it",
                binary.display()
            );
        }
        let dir = ctx.paths.data.join("services").join(self.0.name);
        std::fs::create_dir_all(&dir)?;
        let mut command = Command::new(&binary);
        command.current_dir(&dir).envs(self.environment(ctx)?);
        if std::env::var_os("RUST_LOG").is_none() {
            command.env("RUST_LOG", "info");
        }
        Ok(command)
    }
}

fn service_url(name: &str) -> Result<String> {
    let other = services::by_name(name).with_context(|| format!("no service named {name}"))?;
    Ok(format!("http://127.0.0.1:{}", other.port.get()?))
}

impl Part for ServicePart {
    fn name(&self) -> &'static str {
        self.0.name
    }

    fn ports(&self) -> Vec<PortSpec> {
        vec![self.0.port]
    }

    fn process_hint(&self) -> &'static str {
        self.0.binary.unwrap_or(self.0.name)
    }

    fn healthy(&self, _ctx: &Ctx) -> bool {
        services::is_ready(self.0)
    }

    fn prepare(&self, _ctx: &Ctx) -> Result<()> {
        for (_, wire) in self.0.env {
            if let Wire::Postgres(database) = wire {
                postgres::ensure_database(database)?;
            }
        }
        Ok(())
    }

    fn start(&self, ctx: &Ctx) -> Result<u32> {
        let mut command = self.command(ctx)?;
        let child = process::spawn_server(&mut command, &ctx.paths.log_file(self.0.name))?;
        Ok(child.id())
    }

    fn after_ready(&self, ctx: &Ctx) -> Result<()> {
        let Some(seed) = self.0.seed else {
            return Ok(());
        };
        let mut command = self.command(ctx)?;
        command.arg(seed);
        let label = format!("{}: load the demo data ({seed})", self.0.name);
        process::run_step(
            &label,
            &mut command,
            &ctx.paths.log_file(&format!("{}-{seed}", self.0.name)),
        )
    }
}
