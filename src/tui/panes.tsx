// The panes, drawn from the controller's view data (controller.ts). Each
// is a plain function of its props, so the component tests render them
// alone. Every line is cut to the pane's width (wrap="truncate"): a
// wrapped line would throw the full-screen frame out of place.
import { Table } from '@alcalzone/ink-table';
import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import type { CommandView, ConsoleLine, ConsoleView, PaneView, ScreenView, StatusView } from './controller.js';
import { PANE_TITLES } from './layout.js';
import { fit_ansi, grid_lines, type EventRow, type GridData } from './view.js';

/** Colour props only when colour is on (NO_COLOR, --no-color); inverse and bold are not colour. */
function fg(color: boolean, name: string): { color?: string } {
  return color ? { color: name } : {};
}

function Line(props: { children?: ReactNode; width?: number; inverse?: boolean; bold?: boolean; dim?: boolean; color?: string }): ReactNode {
  const { children, width, ...style } = props;
  return (
    <Box width={width} height={1} overflow="hidden">
      <Text wrap="truncate-end" {...style}>
        {typeof children === 'string' && width !== undefined ? fit_ansi(children, width) : children}
      </Text>
    </Box>
  );
}

// ------------------------------------------------------------ status bar

/** `kvmdbg | SCENARIO | step N | STOP | VARIANTS ... LAYOUT | FOCUS | ? help`: what matters most first, so a narrow terminal cuts the rest. */
export function StatusBar(props: { status: StatusView; width: number; color: boolean }): ReactNode {
  const s = props.status;
  const w = props.width;
  const left = fit_ansi(` kvmdbg | ${s.scenario} | ${s.step} `, w);
  const stop = s.busy ? `running ${s.busy}` : s.stop;
  const mid = stop ? fit_ansi(`| ${stop} `, Math.max(0, w - left.length)) : '';
  let room = w - left.length - mid.length;
  const right = ` ${s.right} | ? help `;
  const show_right = room >= right.length + 12;
  if (show_right) room -= right.length;
  const variants = room > 4 ? fit_ansi(`| ${s.variants} `, room) : '';
  const pad = ' '.repeat(Math.max(0, room - variants.length));
  return (
    <Box width={w} height={1} overflow="hidden">
      <Text wrap="truncate-end" inverse>
        {left}
        {mid ? (
          <Text bold {...fg(props.color, s.busy ? 'yellow' : stop!.startsWith('violation') ? 'red' : 'green')}>
            {mid}
          </Text>
        ) : null}
        {variants}
        {pad}
        {show_right ? right : ''}
      </Text>
    </Box>
  );
}

// ------------------------------------------------------------ pane frame

function Title(props: { view: PaneView; color: boolean }): ReactNode {
  const v = props.view;
  const mark = v.focused ? '▶ ' : '  ';
  if (v.tabs && v.tabs.length > 1) {
    return (
      <Box width={v.width} height={1} overflow="hidden">
        <Text wrap="truncate-end">
          <Text inverse={v.focused} bold>
            {mark}
          </Text>
          {v.tabs.map((t, i) => (
            <Text key={t}>
              {i ? <Text dimColor> | </Text> : null}
              {t === v.pane ? (
                // Brackets as well as the styling: with --no-color there is no styling at all.
                <Text inverse={v.focused} bold underline>
                  {`[${v.title}]`}
                </Text>
              ) : (
                <Text dimColor>{PANE_TITLES[t]}</Text>
              )}
            </Text>
          ))}
        </Text>
      </Box>
    );
  }
  return (
    <Line width={v.width} inverse={v.focused} bold>
      {`${mark}${v.title}`}
    </Line>
  );
}

export function Pane(props: { view: PaneView; color: boolean }): ReactNode {
  const v = props.view;
  const content = Math.max(0, v.height - 1);
  let body: ReactNode;
  switch (v.body.kind) {
    case 'grid':
      body =
        v.body.style === 'table' ? (
          <TableBody grid={v.body.grid} color={props.color} />
        ) : (
          <GridBody grid={v.body.grid} width={v.width} height={content} selected={v.body.selected} offset={v.body.offset} focused={v.focused} color={props.color} />
        );
      break;
    case 'events':
      body = <EventsBody rows={v.body.window.rows} width={v.width} color={props.color} empty={v.body.filter ? `No events contain "${v.body.filter}".` : 'No events yet: s steps, c continues.'} />;
      break;
    case 'text':
      body = <TextBody lines={v.body.lines} offset={v.body.offset} height={content} width={v.width} error={v.body.error} color={props.color} />;
      break;
  }
  return (
    <Box flexDirection="column" width={v.width} height={v.height} overflow="hidden">
      <Title view={v} color={props.color} />
      <Box flexDirection="column" width={v.width} height={content} overflow="hidden">
        {body}
      </Box>
    </Box>
  );
}

// ------------------------------------------------------------ bodies

/** A compact table: a header and one line per row; the selected row is marked (and inverse when focused). */
export function GridBody(props: { grid: GridData; width: number; height: number; selected: number | null; offset: number; focused: boolean; color: boolean }): ReactNode {
  const g = props.grid;
  if (g.empty !== undefined && g.rows.length === 0) {
    return (
      <Box flexDirection="column">
        {g.empty
          .split('\n')
          .slice(0, props.height)
          .map((l, i) => (
            <Line key={i} width={props.width} dim={g.columns.length > 0}>
              {`  ${l}`}
            </Line>
          ))}
      </Box>
    );
  }
  const { header, rows } = grid_lines(g, props.width - 2);
  const visible = Math.max(0, props.height - 1);
  const shown = rows.slice(props.offset, props.offset + visible);
  return (
    <Box flexDirection="column">
      <Line width={props.width} bold dim>
        {`  ${header}`}
      </Line>
      {shown.map((r, i) => {
        const idx = props.offset + i;
        const sel = idx === props.selected;
        return (
          <Line key={idx} width={props.width} inverse={sel && props.focused} bold={sel}>
            {`${sel ? '>' : ' '} ${r}`}
          </Line>
        );
      })}
    </Box>
  );
}

/** The boxed table of @alcalzone/ink-table, where there is room for it (a separator line between rows). */
export function TableBody(props: { grid: GridData; color: boolean }): ReactNode {
  const color = props.color;
  const Header = (p: { children?: ReactNode }) => (
    <Text bold {...fg(color, 'blue')}>
      {p.children}
    </Text>
  );
  // The table labels columns with the data's keys: key the rows by the column titles.
  const cols = props.grid.columns;
  const data = props.grid.rows.map((r) => Object.fromEntries(cols.map((c) => [c.title, r[c.key] ?? ''])));
  return <Table data={data} columns={cols.map((c) => c.title)} header={Header} />;
}

function EventsBody(props: { rows: EventRow[]; width: number; color: boolean; empty: string }): ReactNode {
  if (props.rows.length === 0) {
    return (
      <Line width={props.width} dim>
        {`  ${props.empty}`}
      </Line>
    );
  }
  return (
    <Box flexDirection="column">
      {props.rows.map((r) => (
        <EventLine key={r.key} row={r} width={props.width} color={props.color} />
      ))}
    </Box>
  );
}

export function EventLine(props: { row: EventRow; width: number; color: boolean }): ReactNode {
  const r = props.row;
  const c = props.color;
  switch (r.mark) {
    case 'stop':
      return (
        <Line width={props.width} inverse bold {...fg(c, 'yellow')}>
          {`▶ ${r.text}`}
        </Line>
      );
    case 'break':
      return (
        <Line width={props.width} bold {...fg(c, 'yellow')}>
          {`● ${r.text}`}
        </Line>
      );
    case 'violation':
      return (
        <Line width={props.width} bold inverse={!c} {...fg(c, 'red')}>
          {`✗ ${r.text}`}
        </Line>
      );
    default:
      return <Line width={props.width}>{`  ${c ? r.painted : r.text}`}</Line>;
  }
}

function TextBody(props: { lines: string[]; offset: number; height: number; width: number; error: boolean; color: boolean }): ReactNode {
  const shown = props.lines.slice(props.offset, props.offset + props.height);
  return (
    <Box flexDirection="column">
      {shown.map((l, i) => (
        <Line key={props.offset + i} width={props.width} {...(props.error ? fg(props.color, 'red') : {})}>
          {` ${l}`}
        </Line>
      ))}
    </Box>
  );
}

// ------------------------------------------------------------ console and command line

const TONE: Record<ConsoleLine['tone'], { color?: string; dim?: boolean; bold?: boolean }> = {
  cmd: { bold: true },
  out: {},
  err: { color: 'red' },
  note: { dim: true },
};

export function Console(props: { view: ConsoleView; candidates: string[]; color: boolean }): ReactNode {
  const v = props.view;
  const cands = props.candidates.length ? [props.candidates.join('  ')] : [];
  const lines = v.lines.slice(Math.max(0, v.lines.length - (v.height - cands.length)));
  return (
    <Box flexDirection="column" width={v.width} height={v.height} overflow="hidden">
      {lines.map((l) => {
        const t = TONE[l.tone];
        return (
          <Line key={l.id} width={v.width} dim={t.dim} bold={t.bold} {...(t.color ? fg(props.color, t.color) : {})} inverse={l.tone === 'err' && !props.color}>
            {l.text}
          </Line>
        );
      })}
      {cands.map((c) => (
        <Line key="cands" width={v.width} {...fg(props.color, 'cyan')}>
          {c}
        </Line>
      ))}
    </Box>
  );
}

export function CommandLine(props: { view: CommandView; width: number; color: boolean }): ReactNode {
  const v = props.view;
  if (!v.open) {
    return (
      <Line width={props.width} dim>
        {v.hint}
      </Line>
    );
  }
  // Keep the cursor on screen: show the end of a line longer than the row.
  const room = Math.max(1, props.width - v.prompt.length - 1);
  const start = Math.max(0, v.cursor - room + 1);
  const text = v.text.slice(start);
  const at = v.cursor - start;
  return (
    <Box width={props.width} height={1} overflow="hidden">
      <Text wrap="truncate-end">
        <Text bold>{v.prompt}</Text>
        {text.slice(0, at)}
        <Text inverse>{text[at] ?? ' '}</Text>
        {text.slice(at + 1)}
      </Text>
    </Box>
  );
}

export function HelpOverlay(props: { lines: string[]; offset: number; width: number; height: number }): ReactNode {
  const body = Math.max(0, props.height - 1);
  const offset = Math.max(0, Math.min(props.offset, props.lines.length - body));
  return (
    <Box flexDirection="column" width={props.width} height={props.height} overflow="hidden">
      <Line width={props.width} inverse bold>
        {'▶ Help (Esc closes; Up/Down scroll)'}
      </Line>
      {props.lines.slice(offset, offset + body).map((l, i) => (
        <Line key={offset + i} width={props.width} bold={/^\S/.test(l)}>
          {` ${l}`}
        </Line>
      ))}
    </Box>
  );
}

// ------------------------------------------------------------ the screen

/** The whole frame, as tall as the terminal (Ink then repaints it whole: see app.tsx). */
export function Screen(props: { view: ScreenView }): ReactNode {
  const v = props.view;
  const height = Math.max(4, v.rows);
  const body = height - 2;
  return (
    <Box flexDirection="column" width={v.cols} height={height} overflow="hidden">
      <StatusBar status={v.status} width={v.cols} color={v.color} />
      {v.help ? (
        <HelpOverlay lines={v.help.lines} offset={v.help.offset} width={v.cols} height={body} />
      ) : (
        v.bands.map((b, i) => (
          <Box key={i} flexDirection="row" width={v.cols} height={b.height} overflow="hidden">
            {b.slots.map((slot, j) =>
              slot.pane === 'console' ? (
                <Console key="console" view={slot} candidates={v.command.candidates} color={v.color} />
              ) : j === 0 ? (
                <Pane key={slot.pane} view={slot} color={v.color} />
              ) : (
                // Side by side: a rule on the left of the second pane.
                <Box key={slot.pane} width={slot.width} height={slot.height} borderStyle="single" borderTop={false} borderBottom={false} borderRight={false} borderDimColor>
                  <Pane view={{ ...slot, width: slot.width - 1 }} color={v.color} />
                </Box>
              ),
            )}
          </Box>
        ))
      )}
      <CommandLine view={v.command} width={v.cols} color={v.color} />
    </Box>
  );
}
