/**
 * Credentials in URLs never go into an error message or a log line:
 * scheme://user:***@host, scheme://***@host when the user part alone is the
 * credential (a NATS token), and ***-valued password/secret/token/key query
 * parameters. Works on a URL and on free text that contains URLs (an error
 * message quoting the URL it failed on).
 */
export function redactUrl(text: string): string {
  return text
    .replace(/(\/\/[^:/@\s]*:)[^@\s]*@/g, '$1***@')
    .replace(/\/\/[^:/@\s]+@/g, '//***@')
    .replace(/([?&][^=&#\s]*(?:pass|secret|token|key)[^=&#\s]*=)[^&#\s]*/gi, '$1***');
}
