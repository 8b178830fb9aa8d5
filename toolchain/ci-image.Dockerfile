# syntax=docker/dockerfile:1
# The machine of ci.yml's `test` job, for `make test` on a laptop with Docker: toolchain/test.sh builds it with
# the values it reads from ci.yml (the job's container image, and the versions its setup-java, setup-node and
# setup-kubectl steps install), so nothing here pins a version of its own.
# Dockerfile reference: https://docs.docker.com/reference/dockerfile/
# Every Debian package of toolchain/tools.tsv is installed up front (CI installs the same ones on first use), so
# only the first build reaches the network; the build context is toolchain/.
ARG CI_IMAGE
ARG JDK_IMAGE
ARG NODE_IMAGE
ARG KUBECTL_IMAGE

FROM ${JDK_IMAGE} AS jdk
FROM ${NODE_IMAGE} AS node
FROM ${KUBECTL_IMAGE} AS kubectl

FROM ${CI_IMAGE}
# actions/setup-java (Temurin), actions/setup-node and Azure/setup-kubectl, at ci.yml's versions.
COPY --from=jdk /opt/java/openjdk /opt/java/openjdk
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
COPY --from=kubectl /bin/kubectl /usr/local/bin/kubectl
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
ENV JAVA_HOME=/opt/java/openjdk
ENV PATH=/opt/java/openjdk/bin:$PATH

# `make ci-tools` and what the targets would install with apt-get, minus what the setup steps above provide.
COPY tools.tsv tools.py /opt/toolchain/
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      $(python3 /opt/toolchain/tools.py debian-packages --except java,node,npm) \
 && rm -rf /var/lib/apt/lists/*
