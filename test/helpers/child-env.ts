/**
 * The whole environment of a child process the tests start: PATH (to find node, bash and the
 * tools a script calls), HOME in a temp dir the test owns, NO_COLOR; then what the test adds.
 * Nothing else of the developer's or the CI runner's environment (SMILE_*, CI, proxies) leaks in.
 */
export function childEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'], HOME: home, NO_COLOR: '1', ...extra };
}
