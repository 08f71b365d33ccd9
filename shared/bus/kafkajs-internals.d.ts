// kafkajs publishes no table of the protocol versions it implements; its request modules hold one.
declare module 'kafkajs/src/protocol/requests/index.js' {
  const requests: { requests: Record<string, { versions: string[] }> };
  export default requests;
}
declare module 'kafkajs/src/protocol/requests/apiKeys.js' {
  const apiKeys: Record<string, number>;
  export default apiKeys;
}
