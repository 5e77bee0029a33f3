// Prints "N passed, M failed" from vitest's JSON report. Plain CommonJS so it
// runs on any Node the machine has.
const fs = require('node:fs');
const file = process.argv[2];
if (!fs.existsSync(file)) {
  console.log('no test report was written (the type-check, lint or install failed before the tests ran)');
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const report = JSON.parse(fs.readFileSync(file, 'utf8'));
const passed = report.numPassedTests ?? 0;
// A file that fails to load has no failed test of its own; count it once.
const brokenFiles = (report.testResults ?? []).filter(
  (r) => r.status === 'failed' && !(r.assertionResults ?? []).some((a) => a.status === 'failed'),
).length;
const failed = (report.numFailedTests ?? 0) + brokenFiles;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
