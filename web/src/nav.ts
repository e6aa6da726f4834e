// In-app navigation without a page load: the shell (main.ts) listens.
export function navigate(path: string): void {
  history.pushState(null, '', path);
  dispatchEvent(new Event('normbase:navigate'));
}
