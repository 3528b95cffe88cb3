# One image for every CortexOps service; docker-compose picks the service with CORTEXOPS_SERVICE.

# The policy gate's wasm, compiled by the same opa release the local build pins (packages/testkit versions.ts).
FROM openpolicyagent/opa:1.22.2-static AS policy
COPY packages/policy/policy/ /policy/
RUN ["/opa", "build", "-t", "wasm", "-e", "cortexops/remediation/decision", "-e", "cortexops/remediation/prepared", \
     "--ignore", "*_test.rego", "--ignore", "data.json", "-o", "/bundle.tar.gz", "/policy"]

FROM node:20-bookworm-slim AS deps
RUN npm install -g pnpm@12.21.0
WORKDIR /app
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml tsconfig.base.json tsconfig.json ./
# Patched dependencies (pnpm-workspace.yaml patchedDependencies) are applied by the install.
COPY patches/ ./patches/
COPY packages/ ./packages/
COPY services/ ./services/
RUN pnpm install --frozen-lockfile

# The image is only built from code that type-checks.
FROM deps AS checked
RUN pnpm run typecheck
COPY --from=policy /bundle.tar.gz /tmp/policy-bundle.tar.gz
RUN mkdir -p packages/policy/build && tar -xzf /tmp/policy-bundle.tar.gz -C packages/policy/build /policy.wasm && rm /tmp/policy-bundle.tar.gz

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production CORTEXOPS_HTTP_HOST=0.0.0.0
WORKDIR /app
COPY --from=checked /app /app
USER node
# tsx runs the TypeScript sources directly: the same entry points `make up` uses.
CMD ["sh", "-c", "exec node --import tsx services/${CORTEXOPS_SERVICE:?set CORTEXOPS_SERVICE}/src/main.ts"]
