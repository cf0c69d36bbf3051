//! The reference web app's HTML: the core's [`Page`]s rendered small and static, every dynamic
//! value HTML-escaped. The core never passes provider text (`error_description`): error pages
//! say what happened in its words.

use edge_token::scenarios::{Page, SIGN_IN_HREF};
use edge_token::WebResponse;
use html_escape::encode_text;

/// `response` with its page, if any, rendered as the HTML body.
pub(crate) fn render(mut response: WebResponse) -> WebResponse {
    if let Some(page) = response.page.take() {
        response.body = html(&page).into_bytes();
        response
            .headers
            .push(("content-type".into(), "text/html; charset=utf-8".into()));
    }
    response
}

/// The HTML of `page`.
fn html(page: &Page) -> String {
    match page {
        Page::SignedIn { name } => signed_in(name),
        Page::SignInFailed { reason } => sign_in_failed(reason),
        Page::Unavailable { reason } => unavailable(reason),
        Page::TenantOnboarded { tenant } => tenant_onboarded(tenant),
        Page::ConsentFailed { reason } => consent_failed(reason),
        Page::AccessDenied { reason } => access_denied(reason),
        _ => signed_out(),
    }
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>{title}</title></head>\n<body>\n{body}\n</body></html>\n",
        title = encode_text(title)
    )
}

/// `/` for a visitor without a session.
fn signed_out() -> String {
    page(
        "edge-token web app",
        &format!(
            "<h1>edge-token web app</h1>\n<p>You are signed out.</p>\n\
             <p><a id=\"sign-in\" href=\"{SIGN_IN_HREF}\">Sign in</a></p>"
        ),
    )
}

/// `/` for a signed-in user called `name`.
fn signed_in(name: &str) -> String {
    page(
        "edge-token web app",
        &format!(
            "<h1>edge-token web app</h1>\n\
             <p>Signed in as <span id=\"user-name\">{name}</span>.</p>\n<ul>\n\
             <li><a id=\"me\" href=\"/me\">Your ID token claims</a> (<code>GET /me</code>)</li>\n\
             <li><a id=\"me-call\" href=\"/me/call\">Call the downstream API as you</a> (<code>GET /me/call</code>)</li>\n\
             <li><a id=\"sign-out\" href=\"/auth/sign-out\">Sign out</a></li>\n</ul>",
            name = encode_text(name)
        ),
    )
}

/// The page for a sign-in that could not complete: `reason` is one of our own sentences.
fn sign_in_failed(reason: &str) -> String {
    page(
        "Sign-in failed",
        &format!(
            "<h1>Sign-in failed</h1>\n<p>{reason}</p>\n\
             <p><a id=\"sign-in\" href=\"{SIGN_IN_HREF}\">Sign in again</a></p>",
            reason = encode_text(reason)
        ),
    )
}

/// The page the customer's administrator sees once the tenant `tenant` is onboarded.
fn tenant_onboarded(tenant: &str) -> String {
    page(
        "Tenant onboarded",
        &format!(
            "<h1>Thank you</h1>
<p>Your organization (tenant <code id=\"tenant\">{tenant}</code>) \
             granted the application's permissions. You can close this page.</p>",
            tenant = encode_text(tenant)
        ),
    )
}

/// The page for an admin consent that did not complete: `reason` is one of our own sentences.
fn consent_failed(reason: &str) -> String {
    page(
        "Consent not completed",
        &format!(
            "<h1>Consent not completed</h1>\n<p>{reason}</p>\n\
             <p><a id=\"consent\" href=\"/tenants/consent\">Start again</a></p>",
            reason = encode_text(reason)
        ),
    )
}

/// The page for a call whose permissions were declined or not granted after one trip to the
/// provider: `reason` is one of our own sentences.
fn access_denied(reason: &str) -> String {
    page(
        "Access denied",
        &format!(
            "<h1 id=\"access-denied\">Access denied</h1>\n<p>{reason}</p>\n<p><a href=\"/\">Home</a></p>",
            reason = encode_text(reason)
        ),
    )
}

/// The page for a failure outside sign-in (configuration, provider unreachable).
fn unavailable(reason: &str) -> String {
    page(
        "Temporarily unavailable",
        &format!(
            "<h1>Temporarily unavailable</h1>\n<p>{reason}</p>\n<p><a href=\"/\">Home</a></p>",
            reason = encode_text(reason)
        ),
    )
}

#[cfg(test)]
mod tests;
