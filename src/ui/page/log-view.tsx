/**
 * Every service's log lines, or one service's, with a search: a virtualized list (only the visible rows are
 * in the DOM) over the bounded buffer. It follows the end until the user scrolls up. Lines are text nodes:
 * nothing from a log is ever parsed as HTML. The virtualizer's items are blocks of BLOCK lines, not lines:
 * it lays out every item again whenever their count changes (each frame of a burst), so 20,000 items cost
 * milliseconds a frame and 800 blocks almost nothing.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { Virtualizer, elementScroll, observeElementOffset, observeElementRect } from '@tanstack/virtual-core';
import type { LogBuffer } from './log-buffer.js';

const ROW_PX = 18;
const BLOCK = 25;

export function LogView(props: { logs: LogBuffer; version: number; services: readonly string[]; service: string; onService: (service: string) => void }) {
  const { logs } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const [text, setText] = useState('');
  const [following, setFollowing] = useState(true);
  const [, rerender] = useState(0);
  const virtualizer = useRef<Virtualizer<HTMLDivElement, HTMLDivElement> | undefined>(undefined);
  virtualizer.current ??= new Virtualizer<HTMLDivElement, HTMLDivElement>({
    count: blocks(logs.size),
    getScrollElement: () => scroller.current,
    estimateSize: () => BLOCK * ROW_PX,
    overscan: 1,
    scrollToFn: elementScroll,
    observeElementRect,
    observeElementOffset,
    onChange: () => rerender((n) => n + 1),
  });
  const list = virtualizer.current;
  // Applied while rendering, so the rows drawn are always the filter's.
  const applied = useRef('');
  const key = `${props.service}\n${text}`;
  if (applied.current !== key) {
    applied.current = key;
    logs.setFilter({ service: props.service, text });
  }

  const size = logs.size;
  // Every block is BLOCK lines high but the last, which holds what is left.
  list.setOptions({ ...list.options, count: blocks(size), estimateSize: (block) => Math.min(BLOCK, size - block * BLOCK) * ROW_PX });

  useEffect(() => list._didMount(), [list]);
  useLayoutEffect(() => {
    list._willUpdate();
    // Rows have one height, so the end is known: no measuring pass as scrollToIndex would do each frame.
    const element = scroller.current;
    if (following && element) element.scrollTop = element.scrollHeight;
  });
  const onScroll = () => {
    const element = scroller.current;
    if (element) setFollowing(element.scrollTop + element.clientHeight >= element.scrollHeight - ROW_PX * 2);
  };
  return (
    <section class="logs" aria-label="logs">
      <div class="toolbar">
        <select value={props.service} onChange={(e) => props.onService((e.currentTarget).value)} aria-label="service">
          <option value="">all services</option>
          {props.services.map((s) => <option value={s} key={s}>{s}</option>)}
        </select>
        <input type="search" placeholder="search the logs" value={text} onInput={(e) => setText((e.currentTarget).value)} aria-label="search the logs" />
        <span class="count" data-field="log-count">{logs.size.toLocaleString()} of {logs.total.toLocaleString()} lines</span>
        {!following && <button type="button" class="quiet" onClick={() => setFollowing(true)}>follow the end</button>}
      </div>
      <div class="scroller" ref={scroller} onScroll={onScroll}>
        <div style={{ height: `${list.getTotalSize()}px`, position: 'relative' }}>
          {list.getVirtualItems().map((block) => (
            <div class="block" key={block.key} style={{ transform: `translateY(${block.start}px)` }}>
              {Array.from({ length: Math.min(BLOCK, size - block.index * BLOCK) }, (_, i) => {
                const line = logs.at(block.index * BLOCK + i);
                return line && (
                  <div class={`line ${line.stream}`} key={i}>
                    <span class="who">{line.service}</span>
                    <span class="text">{line.line}</span>
                  </div>
                );
              })}
            </div>
          ))}
        </div>
      </div>
    </section>
  );
}

function blocks(lines: number): number {
  return Math.ceil(lines / BLOCK);
}
