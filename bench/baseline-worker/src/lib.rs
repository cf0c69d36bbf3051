//! The baseline Worker of the load measurement (testbed/measure-load.mjs): what a hand-written
//! workers-rs Worker holding a fixed token does, with nothing of edge-token in it.
//!
//! Routes:
//! - `GET /healthz`: `{"status":"ok"}` (readiness, as the reference Worker's);
//! - `GET /call`: `GET DOWNSTREAM_URL` with `Authorization: Bearer {DOWNSTREAM_TOKEN}` (both
//!   vars), answered as the reference Worker's `/daemon/call` answers: the downstream's status,
//!   `content-type` and body (redirects not followed);
//! - `GET /static`: a fixed JSON body without calling anything (what the Worker and wrangler's
//!   local proxy cost without the downstream).
//!
//! No caller authentication, no token cache, no time limit: it is the floor to compare with.

use worker::{
    event, Context, Env, Fetch, Headers, Method, Request, RequestInit, RequestRedirect, Response,
    Result,
};

/// The Worker's `fetch` handler.
#[event(fetch)]
pub async fn fetch(request: Request, env: Env, _ctx: Context) -> Result<Response> {
    match (request.method(), request.path().as_str()) {
        (Method::Get, "/healthz") => json(200, br#"{"status":"ok"}"#.to_vec()),
        (Method::Get, "/static") => json(200, br#"{"ok":true}"#.to_vec()),
        (Method::Get, "/call") => call(&env).await,
        (_, "/healthz" | "/static" | "/call") => {
            json(405, br#"{"error":"method_not_allowed"}"#.to_vec())
        }
        _ => json(404, br#"{"error":"not_found"}"#.to_vec()),
    }
}

/// `GET DOWNSTREAM_URL` with the fixed token, relayed: status, `content-type`, body.
async fn call(env: &Env) -> Result<Response> {
    let url = env.var("DOWNSTREAM_URL")?.to_string();
    let token = env.var("DOWNSTREAM_TOKEN")?.to_string();
    let headers = Headers::new();
    headers.set("authorization", &format!("Bearer {token}"))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Get)
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    let mut downstream = Fetch::Request(Request::new_with_init(&url, &init)?)
        .send()
        .await?;
    let status = downstream.status_code();
    let content_type = downstream.headers().get("content-type")?;
    let body = downstream.bytes().await?;
    let mut response = Response::from_bytes(body)?.with_status(status);
    if let Some(content_type) = content_type {
        response.headers_mut().set("content-type", &content_type)?;
    }
    Ok(response)
}

fn json(status: u16, body: Vec<u8>) -> Result<Response> {
    let mut response = Response::from_bytes(body)?.with_status(status);
    response
        .headers_mut()
        .set("content-type", "application/json")?;
    Ok(response)
}
