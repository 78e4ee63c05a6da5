import { Box, Text, renderToString } from 'ink';
import { OUTCOME_STYLE, relevantActions, resultLine } from '../output/result-text.js';
import type { ResultCardFields } from '../register/document.js';

export interface ResultCardProps {
  document: ResultCardFields;
  environmentLabel: string;
  /** Half-block picture of the selfie (ANSI), or '' when there is none. */
  preview?: string;
}

/** The human result card: outcome, ids, result code and the Actions, with the selfie beside it. */
export function ResultCard({ document, environmentLabel, preview }: ResultCardProps) {
  const style = OUTCOME_STYLE[document.outcome];
  const actions = relevantActions(document);
  const rows: [string, string][] = [
    ['user', document.user_id],
    ['job', document.job_id],
  ];
  if (document.smile_job_id) rows.push(['smile job', document.smile_job_id]);
  const result = resultLine(document);
  if (result) rows.push(['result', result]);
  if (document.liveness_frames) rows.push(['liveness', `${document.liveness_frames} frames sent with the selfie`]);
  return (
    <Box flexDirection="column" alignItems="flex-start">
      <Box flexDirection="row" borderStyle="round" borderColor={style.color} paddingX={1} gap={2}>
        {preview ? <Text>{preview}</Text> : null}
        <Box flexDirection="column">
          <Text bold color={style.color}>
            {style.symbol} {style.label}
            <Text color="gray"> · {environmentLabel}</Text>
          </Text>
          {rows.map(([label, value]) => (
            <Text key={label}>
              <Text color="gray">{label.padEnd(10)}</Text>
              {value}
            </Text>
          ))}
          {actions.map(([key, value]) => (
            <Text key={key}>
              <Text color="gray">
                {'  '}
                {key.replace(/_/g, ' ')}:{' '}
              </Text>
              <Text
                color={
                  /approved|passed|verified|completed/i.test(value)
                    ? 'green'
                    : /rejected|failed/i.test(value)
                      ? 'red'
                      : 'yellow'
                }
              >
                {value}
              </Text>
            </Text>
          ))}
        </Box>
      </Box>
    </Box>
  );
}

export function renderResultCard(props: ResultCardProps, columns: number): string {
  return renderToString(<ResultCard {...props} />, { columns });
}
