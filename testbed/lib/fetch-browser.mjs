// A browser without rendering, for scripts and tests that walk sign-in flows with plain fetch:
// a cookie jar, manual redirects, and forms that submit themselves by script (form_post
// responses, the provider's logout confirmation and account switch) submitted as a browser with
// JavaScript would. Enough for the provider's and the Worker's own pages, whose markup is known;
// the browser end-to-end test uses real Chromium instead.

const MAX_HOPS = 20;

function unescapeHtml(text) {
  return text.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (_, name) => ({
    amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'",
  })[name]);
}

/** The forms of a page: id, method, absolute action and hidden inputs. */
export function formsOf(html, baseUrl) {
  return [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)].map(([, attributes, body]) => {
    const attribute = (name, text) => {
      const match = new RegExp(`\\b${name}="([^"]*)"`).exec(text);
      return match ? unescapeHtml(match[1]) : undefined;
    };
    const fields = new URLSearchParams();
    for (const [input] of body.matchAll(/<input\b[^>]*>/g)) {
      if (attribute('type', input) === 'hidden') fields.append(attribute('name', input), attribute('value', input) ?? '');
    }
    return {
      id: attribute('id', attributes),
      method: (attribute('method', attributes) ?? 'get').toUpperCase(),
      action: new URL(attribute('action', attributes) ?? baseUrl, baseUrl).href,
      fields,
    };
  });
}

/** A page that submits its first form by script. */
export const submitsItself = (html) => /<script>[\s\S]*\.submit\(\)/.test(html);

/**
 * Cookies by name, host and path; Max-Age=0 or an empty value deletes. Secure, SameSite and
 * expiry dates are not modelled: every flow here runs on http://127.0.0.1 within minutes.
 */
export class FetchBrowser {
  cookies = new Map(); // `${host};${name};${path}` -> { host, name, value, path }

  cookieHeader(url) {
    const { host, pathname } = new URL(url);
    return [...this.cookies.values()]
      .filter((cookie) => cookie.host === host.split(':')[0])
      .filter(({ path }) => pathname === path || pathname.startsWith(path.endsWith('/') ? path : `${path}/`))
      .map(({ name, value }) => `${name}=${value}`)
      .join('; ');
  }

  remember(url, response) {
    const host = new URL(url).hostname; // cookies do not care about ports
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((part) => part.trim());
      const [name, ...rest] = pair.split('=');
      const value = rest.join('=');
      const path = attributes.find((a) => /^path=/i.test(a))?.slice(5) || '/';
      const expired = attributes.some((a) => /^max-age=0$/i.test(a) || /^expires=Thu, 01 Jan 1970/i.test(a));
      const key = `${host};${name};${path}`;
      if (expired || value === '') this.cookies.delete(key);
      else this.cookies.set(key, { host, name, value, path });
    }
  }

  /** One request, no redirect followed. */
  async request(url, { method = 'GET', form } = {}) {
    const headers = {};
    const cookie = this.cookieHeader(url);
    if (cookie) headers.cookie = cookie;
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(url, {
      method, headers, body: form ? new URLSearchParams(form) : undefined, redirect: 'manual',
    });
    this.remember(url, response);
    const text = await response.text();
    const location = response.headers.get('location');
    return {
      url,
      status: response.status,
      headers: response.headers,
      location: location ? new URL(location, url).href : undefined,
      text,
    };
  }

  /**
   * Requests `url` and goes on as a browser would while on the `stayOn` origin(s): redirects,
   * and pages that submit a form by script. Returns the last response and, when it would leave,
   * `leftTo` (the URL elsewhere, not requested) or `postedTo` + `form` (a form posted
   * elsewhere, not sent).
   */
  async navigate(url, { stayOn, method = 'GET', form } = {}) {
    const origins = new Set([stayOn].flat());
    let next = { url, method, form };
    for (let hop = 0; hop < MAX_HOPS; hop += 1) {
      const response = await this.request(next.url, next);
      if (response.status >= 300 && response.status < 400 && response.location) {
        if (!origins.has(new URL(response.location).origin)) return { ...response, leftTo: response.location };
        next = { url: response.location };
      } else if (response.status === 200 && submitsItself(response.text)) {
        const [first] = formsOf(response.text, response.url);
        if (!origins.has(new URL(first.action).origin)) return { ...response, postedTo: first.action, form: first.fields };
        next = { url: first.action, method: first.method, form: first.fields };
      } else {
        return response;
      }
    }
    throw new Error(`more than ${MAX_HOPS} hops from ${url}`);
  }
}
