//! `switchboard admin` and `switchboard migrate`, run as a self-hoster runs them: the real
//! binary on the configured database, the password on stdin, the exit code checked.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::common::{Db, Node, TestDb, paths};

/// What a command said and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `switchboard ARGS` on the database at `url` (by its variable, as a unit file sets it)
/// with `stdin` piped in.
pub fn switchboard(url: &str, args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(args)
        .env("SWITCHBOARD_DATABASE_URL", url)
        .env("SWITCHBOARD_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().expect("exited"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn create_owner(url: &str, workspace: &str, email: &str, password: &str) -> Run {
    let args = [
        "admin",
        "create-owner",
        "--workspace-name",
        workspace,
        "--name",
        "Ana",
        "--email",
        email,
    ];
    switchboard(url, &args, &format!("{password}\n"))
}

/// A refusal: exit code 1 and one line saying why.
fn assert_refused(run: &Run, because: &str) {
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
    assert!(
        run.stderr.contains(because),
        "{because:?} in {}",
        run.stderr
    );
}

async fn every_admin_command(db: Db) {
    let Some(db) = TestDb::create(db).await else {
        return;
    };
    let url = db.url.as_str();
    let migrated = switchboard(url, &["migrate"], "");
    assert_eq!(migrated.code, 0, "{}", migrated.stderr);

    let created = create_owner(url, "Acme", "ana@acme.test", "first password");
    assert_eq!(created.code, 0, "{}", created.stderr);
    assert!(
        created.stdout.starts_with("workspace 1 operator 1"),
        "{}",
        created.stdout
    );
    assert_refused(
        &create_owner(url, "Acme", "not an email", "first password"),
        "email",
    );
    assert_refused(
        &create_owner(url, "Acme", "bo@acme.test", "short"),
        "password",
    );

    let listed = switchboard(url, &["admin", "list-workspaces"], "");
    assert_eq!(listed.code, 0);
    let rows: Vec<Vec<&str>> = listed
        .stdout
        .lines()
        .map(|l| l.split('\t').collect())
        .collect();
    assert_eq!(rows[0], ["id", "name", "operators", "created"]);
    assert_eq!(rows[1][..3], ["1", "Acme", "1"]);
    assert_eq!(rows.len(), 2);

    let node = Node::spawn(url).await;
    let session = node.api.login("ana@acme.test", "first password").await;
    let reset = switchboard(
        url,
        &["admin", "reset-password", "Ana@Acme.test"],
        "second password\n",
    );
    assert_eq!(reset.code, 0, "{}", reset.stderr);
    assert!(
        reset.stdout.contains("sessions ended: 1"),
        "{}",
        reset.stdout
    );
    assert_eq!(node.api.get(&session, paths::ME).await.0, 401, "signed out");
    assert_eq!(
        node.api
            .try_login("ana@acme.test", "first password")
            .await
            .0,
        401
    );
    node.api.login("ana@acme.test", "second password").await;

    // A one-time link instead of a password: it sets one once, then names nothing.
    let linked = switchboard(
        url,
        &[
            "admin",
            "reset-password",
            "ana@acme.test",
            "--link",
            "--public-url",
            "https://desk.test/",
        ],
        "",
    );
    assert_eq!(linked.code, 0, "{}", linked.stderr);
    let link = linked.stdout.trim();
    let token = link
        .strip_prefix("https://desk.test/reset/")
        .unwrap_or_else(|| panic!("a reset link: {link}"));
    assert_eq!(
        node.api.reset_password(token, "linked password").await.0,
        200
    );
    assert_eq!(
        node.api.reset_password(token, "again password").await.0,
        404,
        "once"
    );
    let ana = node.api.login("ana@acme.test", "linked password").await;

    // Deactivation is the inbox's: Ben is signed out and cannot sign in again, and his chat
    // goes back to the team (here nobody else is Available, so it waits, unassigned).
    let ben_email = "ben@acme.test";
    let (status, body) = node
        .api
        .create_operator(
            &ana,
            json!({"name": "Ben", "email": ben_email, "password": "ben password"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let ben = node.api.login(ben_email, "ben password").await;
    node.api.set_availability(&ana, "away").await;
    let widget = node.api.widget(&ana, "round_robin", &[]).await;
    let chat = node.api.start_chat(&widget, "hello").await;
    node.api.handover(&widget, &chat).await;
    assert_eq!(
        node.api.conversation(&ana, chat.id).await["assignee_id"],
        ben.id
    );
    let deactivated = switchboard(url, &["admin", "deactivate", ben_email], "");
    assert_eq!(deactivated.code, 0, "{}", deactivated.stderr);
    assert_eq!(node.api.get(&ben, paths::ME).await.0, 401, "signed out");
    assert_eq!(node.api.try_login(ben_email, "ben password").await.0, 401);
    let detail = node.api.conversation(&ana, chat.id).await;
    assert_eq!(detail["assignee_id"], Value::Null, "{detail}");
    let last = detail["assignment_events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap();
    assert_eq!(
        (
            &last["from_operator_id"],
            &last["reason"],
            &last["actor_id"]
        ),
        (&json!(ben.id), &json!("assignee_removed"), &Value::Null),
        "by the server's administrator: {detail}"
    );
    let (_, team) = node.api.operators(&ana).await;
    let listed = team["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == ben.id)
        .unwrap();
    assert_eq!(listed["active"], false, "{listed}");
    // The last owner stays one.
    assert_refused(
        &switchboard(url, &["admin", "deactivate", "ana@acme.test"], ""),
        "only owner",
    );
    assert_eq!(node.api.me(&ana).await.0, 200);

    // The same email owns a second workspace: which one must be said.
    assert_eq!(
        create_owner(url, "Beta", "ana@acme.test", "beta password").code,
        0
    );
    let ambiguous = switchboard(url, &["admin", "reset-password", "ana@acme.test"], "x\n");
    assert_refused(&ambiguous, "--workspace");
    let chosen = switchboard(
        url,
        &[
            "admin",
            "reset-password",
            "ana@acme.test",
            "--workspace",
            "2",
        ],
        "third password\n",
    );
    assert_eq!(chosen.code, 0, "{}", chosen.stderr);
    let beta = node.api.try_login("ana@acme.test", "third password").await;
    assert_eq!(beta.0, 200);
    assert_eq!(beta.1["workspace"]["id"], 2);
    node.api.login("ana@acme.test", "linked password").await;

    assert_refused(
        &switchboard(url, &["admin", "deactivate", "nobody@acme.test"], ""),
        "nobody@acme.test",
    );
    let usage = switchboard(url, &["admin", "create-owner", "--name", "Ana"], "");
    assert_eq!(usage.code, 2, "a usage error: {}", usage.stderr);
    let usage = switchboard(url, &["admin", "no-such-command"], "");
    assert_eq!(usage.code, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_admin_command_sqlite() {
    every_admin_command(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_admin_command_postgres() {
    every_admin_command(Db::Postgres).await;
}
