import type { Reporter, TestModule, TestSuite } from 'vitest/node';

/**
 * Prints the closing line CI reads: `N passed, N failed, N skipped`.
 * Vitest's own summary is for people; this one is for machines.
 *
 * A hook that throws (beforeAll) fails its suite or module while its tests are reported as skipped: such a
 * suite or module counts as one failure, so the line can never say "0 failed" for a run vitest failed.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const testModule of testModules) {
      let failedTests = 0;
      for (const test of testModule.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed') failedTests += 1;
        else skipped += 1;
      }
      failed += failedTests;
      for (const suite of testModule.children.allSuites()) if (failedWithoutFailedTest(suite)) failed += 1;
      // A module that failed to load, or whose top-level hook threw, without a failed test or suite to show for it.
      if (testModule.state() === 'failed' && failedTests === 0 && ![...testModule.children.allSuites()].some((suite) => suite.state() === 'failed')) failed += 1;
    }
    failed += unhandledErrors.length;
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}

function failedWithoutFailedTest(suite: TestSuite): boolean {
  if (suite.state() !== 'failed') return false;
  for (const test of suite.children.allTests()) if (test.result().state === 'failed') return false;
  // A nested suite that failed is counted on its own.
  for (const child of suite.children.allSuites()) if (child.state() === 'failed') return false;
  return true;
}
