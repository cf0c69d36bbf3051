// Reading responses in tests: status, headers, text and the JSON body when there is one.

/**
 * A response's status, headers, text and JSON body (`undefined` when the body is not JSON).
 *
 * @param {Response} response
 * @returns {Promise<{status: number, headers: Headers, text: string, json: any}>}
 */
export async function readResponse(response) {
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}
