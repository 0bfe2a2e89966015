# A LOCAL stand-in for the CUDA PyTorch base image, used only by `make docker-check`
# (scripts/docker_check.sh), because no image registry is reachable from CI. Like
# pytorch/pytorch:<tag>, it has torch preinstalled and `python`/`pip` on PATH; unlike it, torch is
# the CPU build. ROOTFS_IMAGE is a debootstrapped Debian imported with `docker import`; the build
# context holds the torch wheel and its dependencies (from the host's pip), the host's pip settings
# (pip.conf) and the CA bundle they name, so that pip inside the app build reaches the same index.
ARG ROOTFS_IMAGE=mro-rootfs:local
FROM ${ROOTFS_IMAGE}

ARG TORCH_VERSION=2.13.0
ENV PATH=/opt/venv/bin:$PATH \
    PIP_DISABLE_PIP_VERSION_CHECK=1

COPY pip.conf /etc/pip.conf
COPY certs /usr/local/share/mro-host-certs
COPY wheels /tmp/wheels
RUN python3 -m venv /opt/venv \
    && python -m pip install --no-cache-dir --no-index --find-links /tmp/wheels "torch==${TORCH_VERSION}" \
    && rm -rf /tmp/wheels \
    && python -c "import torch; print('torch', torch.__version__)"
