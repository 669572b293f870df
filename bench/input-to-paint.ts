/// <reference lib="dom" />
/**
 * Input-to-paint on nh's page, as the e2e test and the benchmark measure it: keys typed into the log search,
 * one at a time, each timed from the key event's timestamp to just after the next frame was drawn (a
 * requestAnimationFrame, then a task after it). The next key is sent once the previous one was drawn, so
 * every sample is one input's own latency, not a queue of them.
 */
import type { Page } from 'playwright-core';

const SEARCH = 'input[type="search"]';

/** Types `count` keys (a character, then Backspace, alternately) and returns each key's input-to-paint in ms. */
export async function inputToPaint(page: Page, count: number): Promise<number[]> {
  await page.evaluate((selector) => {
    const probe = window as unknown as { inputToPaint: number[]; inputProbe?: boolean };
    probe.inputToPaint = [];
    if (probe.inputProbe) return;
    probe.inputProbe = true;
    document.querySelector(selector)!.addEventListener('input', (event) => {
      const start = event.timeStamp;
      requestAnimationFrame(() => setTimeout(() => probe.inputToPaint.push(performance.now() - start), 0));
    });
  }, SEARCH);
  await page.focus(SEARCH);
  for (let i = 0; i < count; i++) {
    await page.keyboard.press(i % 2 === 0 ? 'z' : 'Backspace');
    await page.waitForFunction((n) => (window as unknown as { inputToPaint: number[] }).inputToPaint.length > n, i, { polling: 'raf', timeout: 60_000 });
  }
  return page.evaluate(() => (window as unknown as { inputToPaint: number[] }).inputToPaint);
}
