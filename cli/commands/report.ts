import type { Command } from '../command.ts';
import { command as operations } from './operations.ts';

/** `canhgac report` is the layer-3 report of `canhgac operations report`, under the name the inspectors use. */
export const command: Command = {
  name: 'report',
  summary: 'the periodic operations report (same as `canhgac operations report`)',
  usage: `Usage: canhgac report [--from TIME] [--to TIME] [--format text|json|html] [--out FILE] [--config FILE] [--data DIR]

The same as \`canhgac operations report\`: incidents per unit and layer by severity and
status, time to acknowledge and to resolve (median and p90), escalations, coverage,
national reports due and overdue, drills held. See \`canhgac operations --help\`.

  --data DIR      without Elasticsearch: the data folder of \`canhgac start --data DIR\`
                  (the same folder; its store is DIR/store). The report only reads it,
                  whether the start runs or not, and creates nothing there.`,
  run(argv) {
    return operations.run(['report', ...argv]);
  },
};
