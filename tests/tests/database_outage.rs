//! The registry's database goes away and comes back: requests (signed-in pages too) get a JSON
//! 503 meanwhile, nothing is recorded half, and the server recovers by itself. The outage is
//! real: PostgreSQL is reached through a TCP relay that this test cuts and restores.

use std::sync::Arc;

use addon_runtime::Store;
use addon_tests::*;
use reqwest::StatusCode;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Relays 127.0.0.1:<port> to the database while `open` is true; cutting it drops every
/// relayed connection and refuses new ones.
struct Relay {
    port: u16,
    open: watch::Sender<bool>,
}

impl Relay {
    async fn start(target: String) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (open, watcher) = watch::channel(true);
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else { return };
                let mut watcher = watcher.clone();
                if !*watcher.borrow() {
                    continue; // dropped: the connection is closed at once
                }
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&target).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = watcher.wait_for(|open| !open) => {}
                    }
                });
            }
        });
        Relay { port, open }
    }

    fn set(&self, open: bool) {
        self.open.send_replace(open);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_gets_503_and_the_server_recovers() {
    let database = TestDatabase::postgres().await;
    let (prefix, rest) = database.url().split_once('@').expect("a URL with a user");
    let (host_port, path) = rest.split_once('/').unwrap();
    let relay = Relay::start(host_port.to_owned()).await;
    let relayed = format!("{prefix}@127.0.0.1:{}/{path}", relay.port);
    let store = Store::open(&relayed).await.unwrap();
    let server = Arc::new(TestServer::start_on_store(settings(), store).await);

    let before = new_uuid();
    let recorded = server.provision(&v3_body(&before, "basic")).await.bytes().await.unwrap();
    let signed_in = server.sso_post(&resource_token_form(&before, SALT, now())).await;
    let cookie = cookie_pair(set_cookie(&signed_in, Session::COOKIE).unwrap());
    let page =
        || server.client.get(format!("{}/resources/{before}", server.url)).header("Cookie", &cookie).send();
    assert_eq!(page().await.unwrap().status(), StatusCode::OK);

    relay.set(false);
    let during = new_uuid();
    for response in [
        server.provision(&v3_body(&during, "basic")).await,
        server.provision(&v3_body(&before, "basic")).await,
        server.plan_change(&before, "pro").await,
        server.deprovision(&before).await,
        // A session cannot be checked against the registry: refused as unavailable, not as signed out.
        page().await.unwrap(),
    ] {
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(json_message(response).await.contains("database is unavailable"));
    }

    relay.set(true);
    assert_eq!(page().await.unwrap().status(), StatusCode::OK, "the session outlived the outage");
    // The pool reconnects on its own; the replay is byte for byte what was recorded before.
    let replay = server.provision(&v3_body(&before, "basic")).await;
    assert_eq!(replay.status(), StatusCode::OK);
    assert_eq!(replay.bytes().await.unwrap(), recorded);
    // The provision tried during the outage left nothing behind and now succeeds.
    let direct = database.store().await;
    assert!(direct.resource(&during).await.unwrap().is_none());
    assert_eq!(server.provision(&v3_body(&during, "basic")).await.status(), StatusCode::OK);
    assert_eq!(server.plan_change(&before, "pro").await.status(), StatusCode::OK);
    assert_eq!(TestAddon::calls(&server.addon.provisions), 2);
}
