//! A Redis snapshot taken through the replication protocol loads into a fresh server with every
//! key and value.

use std::process::Stdio;
use std::time::Duration;

use storefront_kit::testing::{redis_url, unique_name};

use crate::common::{run_ok, s3_bucket, s3_env};

fn cli(url: &str, args: &[&str]) -> String {
    let output = std::process::Command::new("redis-cli")
        .arg("-u")
        .arg(url)
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success(), "{:?}", output);
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[tokio::test]
async fn a_redis_snapshot_restores_into_a_fresh_server() {
    let prefix = unique_name("backup");
    let source = redis_url();
    for i in 0..50 {
        cli(
            &source,
            &[
                "SET",
                &format!("{prefix}:cart:{i}"),
                &format!("value {i} é"),
            ],
        );
    }
    cli(
        &source,
        &["HSET", &format!("{prefix}:hash"), "a", "1", "b", "2"],
    );

    let bucket = s3_bucket().await;
    let mut env = s3_env(&bucket, "shop", "redis");
    env.push(("BACKUP_REDIS_URL".into(), source.clone()));
    run_ok(&env, &["backup", "redis"]).await;

    let dir = std::env::temp_dir().join(unique_name("backup-redis"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("dump.rdb");
    run_ok(
        &env,
        &[
            "restore",
            "redis",
            "latest",
            "--output",
            file.to_str().unwrap(),
        ],
    )
    .await;

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = std::process::Command::new("redis-server")
        .args([
            "--bind",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .arg("--dir")
        .arg(&dir)
        .args(["--dbfilename", "dump.rdb"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let restored = format!("redis://127.0.0.1:{port}");
    let mut ready = false;
    for _ in 0..100 {
        let ping = std::process::Command::new("redis-cli")
            .args(["-u", &restored, "PING"])
            .output()
            .unwrap();
        if String::from_utf8_lossy(&ping.stdout).trim() == "PONG" {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let checks = ready.then(|| {
        (
            (0..50)
                .map(|i| cli(&restored, &["GET", &format!("{prefix}:cart:{i}")]))
                .collect::<Vec<_>>(),
            cli(&restored, &["HGET", &format!("{prefix}:hash"), "b"]),
        )
    });
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let mut cleanup = vec!["DEL".to_owned(), format!("{prefix}:hash")];
    cleanup.extend((0..50).map(|i| format!("{prefix}:cart:{i}")));
    cli(
        &source,
        &cleanup.iter().map(String::as_str).collect::<Vec<_>>(),
    );

    let (values, hash) = checks.expect("the restored server answers");
    assert_eq!(
        values,
        (0..50).map(|i| format!("value {i} é")).collect::<Vec<_>>()
    );
    assert_eq!(hash, "2");
}
