import { Box, Text, renderToString } from 'ink';

const STYLE: Record<string, { symbol: string; color: string; label: string }> = {
  approved: { symbol: '✓', color: 'green', label: 'Approved' },
  submitted: { symbol: '↑', color: 'cyan', label: 'Submitted' },
  rejected: { symbol: '✗', color: 'red', label: 'Rejected' },
  error: { symbol: '✗', color: 'red', label: 'Error' },
  provisional: { symbol: '…', color: 'yellow', label: 'Provisional: under human review' },
  pending: { symbol: '…', color: 'yellow', label: 'Pending: not final yet' },
};

export interface ResultCardProps {
  document: Record<string, unknown>;
  environmentLabel: string;
  /** Half-block picture of the selfie (ANSI), or '' when there is none. */
  preview?: string;
}

/** The human result card: outcome, ids, result code and the Actions, with the selfie beside it. */
export function ResultCard({ document, environmentLabel, preview }: ResultCardProps) {
  const outcome = String(document['outcome']);
  const style = STYLE[outcome] ?? { symbol: '?', color: 'yellow', label: outcome };
  const actions = Object.entries((document['actions'] ?? {}) as Record<string, unknown>).filter(([, value]) => value !== 'Not Applicable');
  const rows: [string, string][] = [
    ['user', String(document['user_id'] ?? '')],
    ['job', String(document['job_id'] ?? '')],
  ];
  if (document['smile_job_id']) rows.push(['smile job', String(document['smile_job_id'])]);
  const result = [document['result_code'], document['result_text']].filter((part) => part !== null && part !== undefined && part !== '').join(' ');
  if (result) rows.push(['result', result]);
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
            <Text color="gray">{'  '}{key.replace(/_/g, ' ')}: </Text>
            <Text color={/approved|passed|verified|completed/i.test(String(value)) ? 'green' : /rejected|failed/i.test(String(value)) ? 'red' : 'yellow'}>{String(value)}</Text>
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
