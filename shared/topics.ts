/** Kafka topics of the data flow (ARCHITECTURE.md, "Topics and their messages"). A prefix isolates tests and drills sharing a broker. */
export interface Topics {
  raw: string;
  correlate: string;
  incidents: string;
  national: string;
  dlq: string;
}

export function topicNames(prefix = ''): Topics {
  return {
    raw: `${prefix}soc.raw`,
    correlate: `${prefix}soc.correlate`,
    incidents: `${prefix}soc.incidents`,
    national: `${prefix}soc.national`,
    dlq: `${prefix}soc.dlq`,
  };
}
