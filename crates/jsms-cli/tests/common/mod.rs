//! Test harness: a real `jsms serve` process on 127.0.0.1:0 over a temporary instance seeded
//! with the demo scenario, and an HTTP client that signs in with password and TOTP.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod inproc;
pub mod movements;

use jsms_cli::init::Login;
use jsms_identity::totp::{self, TotpSecret};
use jsms_server::config::KeySource;
use jsms_server::instance::DataDir;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running server over its own instance.
pub struct TestServer {
    pub url: String,
    pub dir: tempfile::TempDir,
    pub logins: Vec<Login>,
    child: Child,
    /// Last TOTP step used per user (the server refuses a code twice).
    used_steps: Arc<Mutex<HashMap<String, i64>>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl TestServer {
    /// Seeds a fresh demo instance and serves it.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Like [`start`] with extra environment variables for `jsms serve`.
    pub fn start_with(env: &[(&str, &str)]) -> Self {
        let (dir, logins) = Self::create_instance();
        Self::start_instance(dir, logins, env)
    }

    /// A fresh demo instance in a temporary directory (`<dir>/instance`), not yet served.
    pub fn create_instance() -> (tempfile::TempDir, Vec<Login>) {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path().join("instance"));
        data.create(&KeySource::DataDir).unwrap();
        let store = data.create_store(&KeySource::DataDir).unwrap();
        let logins = jsms_cli::demo::seed(&store, now()).unwrap_or_else(|f| panic!("seed failed: {f:?}"));
        jsms_cli::demo::import_demo_map(&data).unwrap_or_else(|f| panic!("demo map: {f:?}"));
        (dir, logins)
    }

    /// Serves an instance made by [`create_instance`].
    pub fn start_instance(dir: tempfile::TempDir, logins: Vec<Login>, env: &[(&str, &str)]) -> Self {
        let mut server = Self::serve(dir, logins, env);
        server.wait_ready();
        server
    }

    /// Stops the server gracefully (SIGTERM) and waits for it.
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }

    /// Stops the server gracefully and serves the same instance again (a new port), with
    /// `env`; one-time codes already used stay used.
    pub fn restart(mut self, env: &[(&str, &str)]) -> Self {
        self.stop();
        let logins = self.logins.clone();
        let used = Arc::clone(&self.used_steps);
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        drop(self);
        let mut server = Self::serve(dir, logins, env);
        server.used_steps = used;
        server.wait_ready();
        server
    }

    fn serve(dir: tempfile::TempDir, logins: Vec<Login>, env: &[(&str, &str)]) -> Self {
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_jsms"));
        cmd.args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("instance"))
            .env("JSMS_LOG", "debug")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("JSMS is serving on ")
            .unwrap_or_else(|| {
                panic!(
                    "unexpected first line {line:?}; log: {}",
                    std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default()
                )
            })
            .to_owned();
        Self {
            url,
            dir,
            logins,
            child,
            used_steps: Arc::default(),
        }
    }

    fn wait_ready(&mut self) {
        for _ in 0..100 {
            if http_status(&format!("{}/readyz", self.url)) == Some(200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("server never became ready");
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("instance")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    pub fn login(&self, username: &str) -> &Login {
        self.logins
            .iter()
            .find(|l| l.username == username)
            .unwrap_or_else(|| panic!("no demo login {username}"))
    }

    /// A fresh client with its own cookie jar.
    pub fn client(&self) -> Client {
        Client {
            base: self.url.clone(),
            http: reqwest::Client::builder().cookie_store(true).build().unwrap(),
            csrf: None,
            bearer: None,
            used_steps: Arc::clone(&self.used_steps),
        }
    }

    /// A client signed in as `username` (TOTP enrolled in the demo).
    pub async fn signed_in(&self, username: &str) -> Client {
        let mut c = self.client();
        let (status, body) = c.sign_in_as(self.login(username)).await;
        assert_eq!(status, StatusCode::OK, "sign-in of {username}: {body}");
        c
    }

    /// A TOTP code for `username` that the server has not seen yet.
    pub fn next_code(&self, username: &str) -> String {
        next_code(&self.used_steps, self.login(username), username)
    }

    /// Runs the `jsms` binary with arguments; returns (exit code, stdout, stderr).
    pub fn cli(&self, args: &[&str]) -> (i32, String, String) {
        run_cli(args)
    }
}

pub fn run_cli(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_jsms")).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn next_code(used: &Mutex<HashMap<String, i64>>, login: &Login, username: &str) -> String {
    let secret = TotpSecret::from_base32(login.totp_secret.as_deref().expect("user has TOTP")).unwrap();
    loop {
        let t = now();
        let now_step = totp::step_at(t);
        let mut used = used.lock().unwrap();
        let last = used.get(username).copied().unwrap_or(i64::MIN);
        // The server accepts the current step ±1, each once per user, in increasing order.
        // The previous step is used only early in the current one: near its end, the request
        // could reach the server in the next step, two steps after the code's.
        let earliest = if t - now_step * totp::STEP_SECONDS < totp::STEP_SECONDS - 5 {
            now_step - 1
        } else {
            now_step
        };
        let step = earliest.max(last.saturating_add(1));
        if step <= now_step + 1 {
            used.insert(username.to_owned(), step);
            return totp::code_for_step(&secret, step, totp::DIGITS);
        }
        drop(used);
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// An HTTP client that remembers the CSRF token of its session.
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
    pub csrf: Option<String>,
    pub bearer: Option<String>,
    pub used_steps: Arc<Mutex<HashMap<String, i64>>>,
}

/// A response: status, headers, JSON body (or `Value::Null`).
pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl std::fmt::Debug for Resp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.body)
    }
}

impl Client {
    pub async fn sign_in_as(&mut self, login: &Login) -> (StatusCode, Value) {
        let code = login
            .totp_secret
            .as_ref()
            .map(|_| next_code(&self.used_steps, login, &login.username));
        let r = self
            .send(
                Method::POST,
                "/api/v1/auth/sign-in",
                Some(json!({"username": login.username, "password": login.password, "totp_code": code})),
            )
            .await;
        if r.status == StatusCode::OK {
            self.csrf = r.body["csrf_token"].as_str().map(str::to_owned);
        }
        (r.status, r.body)
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let mut req = self.http.request(method.clone(), format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        if let Some(t) = &self.csrf {
            req = req.header("x-csrf-token", t);
        }
        if let Some(b) = &self.bearer {
            req = req.bearer_auth(b);
        }
        Self::finish(req).await
    }

    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        if let Some(t) = &self.csrf {
            req = req.header("x-csrf-token", t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Self::finish(req).await
    }

    pub async fn finish(req: reqwest::RequestBuilder) -> Resp {
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Resp { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.send(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str, version: i64) -> Resp {
        let mut req = self
            .http
            .delete(format!("{}{path}", self.base))
            .header("if-match", format!("\"v{version}\""));
        if let Some(t) = &self.csrf {
            req = req.header("x-csrf-token", t);
        }
        Self::finish(req).await
    }
}

/// Asserts a problem document with this status and type slug; returns it.
#[track_caller]
pub fn assert_problem(r: &Resp, status: u16, slug: &str) -> Value {
    assert_eq!(r.status.as_u16(), status, "{r:?}");
    assert_eq!(
        r.headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "{r:?}"
    );
    assert_eq!(r.body["type"], format!("urn:jsms:problem:{slug}"), "{r:?}");
    assert_eq!(r.body["status"], status, "{r:?}");
    assert!(r.body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{r:?}");
    assert!(r.body["request_id"].is_string(), "{r:?}");
    r.body.clone()
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() { stack.push(p) } else { out.push(p) }
        }
    }
    out
}

/// Minimal blocking GET over a raw socket, returning the status (the harness starts servers
/// outside any async runtime).
pub fn http_status(url: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut s = std::net::TcpStream::connect(host).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    buf.split_whitespace().nth(1)?.parse().ok()
}

/// Signs in an administrator (no TOTP in the demo), enrols TOTP, returns a verified client.
pub async fn enrolled_admin(server: &TestServer, username: &str) -> Client {
    enrolled(server, &server.login(username).clone()).await
}

/// Signs in a user without TOTP yet, enrols TOTP, returns a verified client.
pub async fn enrolled(server: &TestServer, login: &Login) -> Client {
    enrol(server.client(), login).await
}

/// Signs `c` in as a user without TOTP yet, enrols TOTP, returns the verified client.
pub async fn enrol(mut c: Client, login: &Login) -> Client {
    let (status, _) = c.sign_in_as(login).await;
    assert_eq!(status, StatusCode::OK);
    let enrol = c.send(Method::POST, "/api/v1/auth/totp/enrollment", None).await;
    let secret = TotpSecret::from_base32(enrol.body["secret"].as_str().unwrap()).unwrap();
    let ok = c
        .post(
            "/api/v1/auth/totp/confirmation",
            json!({"code": totp::code_at(&secret, now())}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{ok:?}");
    c.csrf = ok.body["csrf_token"].as_str().map(str::to_owned);
    c
}

/// A problem document without its (per-request) id, to compare two answers.
pub fn without_request_id(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("request_id");
    }
    v
}

/// Issues an API token straight into an instance's database (as its administrator would);
/// returns the secret.
pub fn insert_token(instance: &Path, admin: &str, name: &str, expires_at: i64) -> String {
    use jsms_store::Store;
    let store = DataDir::new(instance).open_store(&KeySource::DataDir).unwrap();
    let admin = store.user_credentials(admin).unwrap().unwrap().user;
    let issued = jsms_identity::token::issue("jsms_at_").unwrap();
    store
        .create_api_token(&jsms_store::ApiTokenRecord {
            id: jsms_domain::ids::ApiTokenId::generate(),
            token_hash: issued.hash,
            party_id: admin.party_id,
            org_id: admin.org_id,
            name: name.into(),
            scopes: vec![jsms_domain::user::ApiScope::RegistryRead],
            created_by: admin.id,
            created_at: now() - 7200,
            expires_at,
            revoked_at: None,
            last_used_at: None,
        })
        .unwrap();
    issued.text
}

/// Reads an event stream until `want` events named `name` arrived or `wait` passed.
pub async fn events(
    c: &Client,
    path: &str,
    name: &str,
    last_event_id: Option<&str>,
    want: usize,
    wait: Duration,
) -> Vec<(String, Value)> {
    read_events(open_events(c, path, last_event_id).await, name, want, wait).await
}

/// Opens an event stream; when it returns the server has answered, so the stream is
/// subscribed.
pub async fn open_events(c: &Client, path: &str, last_event_id: Option<&str>) -> reqwest::Response {
    let mut req = c.http.get(format!("{}{path}", c.base));
    if let Some(id) = last_event_id {
        req = req.header("last-event-id", id);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    resp
}

/// Reads events named `name` from an open stream until `want` arrived or `wait` passed.
pub async fn read_events(mut resp: reqwest::Response, name: &str, want: usize, wait: Duration) -> Vec<(String, Value)> {
    let mut buf = String::new();
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    while events.len() < want {
        let chunk = match tokio::time::timeout_at(deadline, resp.chunk()).await {
            Ok(Ok(Some(c))) => c,
            _ => break,
        };
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let (mut id, mut data, mut alert) = (String::new(), String::new(), false);
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                } else if line.trim() == format!("event: {name}") {
                    alert = true;
                }
            }
            if alert {
                events.push((id, serde_json::from_str(&data).unwrap()));
            }
        }
    }
    events
}
