export function htmlReport(run) {
  return `<!doctype html><title>bench</title><pre>${JSON.stringify(run.targets)}</pre>`;
}
