# One image for the collector, correlator and console: the command picks the component.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /opt/canhgac
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY cli ./cli
COPY shared ./shared
COPY collector ./collector
COPY correlator ./correlator
COPY console ./console
COPY rules ./rules
COPY test/services ./test/services
RUN useradd --system --home /var/lib/canhgac canhgac && mkdir -p /var/lib/canhgac && chown canhgac /var/lib/canhgac
USER canhgac
ENTRYPOINT ["node", "/opt/canhgac/bin/canhgac.mjs"]
CMD ["--help"]
