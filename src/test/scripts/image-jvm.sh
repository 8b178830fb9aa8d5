# shellcheck shell=bash
# Sourced, not run: the JVM of the container image for a service started here (make bench, make capacity), so the
# figures are those of what ships. Sets IMAGE_JAVA (the JDK major of JRE_IMAGE in compose/.env, found under
# /usr/lib/jvm unless IMAGE_JAVA is set), IMAGE_FLAGS (the flags between "java" and "-jar" in the Dockerfile's
# ENTRYPOINT, /deployments mapped to APP) and exports JAVA and JAVA_OPTS (those flags and the pod's memory and CPU
# limits as -XX:MaxRAM and -XX:ActiveProcessorCount) for local-service.sh; copies jvm.options
# next to the jar as the image does and trains the AOT cache the way the image build does (aot-train.sh), again
# when the jar is newer than the cache or jvm.options or the JDK changed. Needs APP (target/quarkus-app), SCRIPTS
# (src/test/scripts), OUT (where the training log goes) and die(). Bash reference: https://www.gnu.org/software/bash/manual/bash.html#Bourne-Shell-Builtins

jre_image=$(sed -n 's/^JRE_IMAGE=//p' compose/.env)
image_major=$(sed -E 's/^[^:]*:([0-9]+).*/\1/' <<<"$jre_image")
if [ -z "${IMAGE_JAVA:-}" ]; then
  IMAGE_JAVA=$(printf '%s\n' /usr/lib/jvm/*-"$image_major"*/bin/java /usr/lib/jvm/*-"$image_major"-*/bin/java |
    grep -v '\*' | head -n 1 || true)
fi
[ -x "${IMAGE_JAVA:-}" ] || die "no JDK $image_major found for $jre_image (set IMAGE_JAVA to its bin/java)"
"$IMAGE_JAVA" -version 2>&1 | grep -q "version \"${image_major}[.\"]" ||
  die "$IMAGE_JAVA is not JDK $image_major, the JDK of $jre_image"
app_abs=$(cd "$APP" && pwd)
# The image copies its JVM options file next to the jar (Dockerfile); so do we.
[ ! -f src/main/docker/jvm.options ] || cp src/main/docker/jvm.options "$APP/jvm.options"
# The flags between "java" and "-jar" in the ENTRYPOINT, with /deployments (the image's app folder) mapped to ours.
mapfile -t IMAGE_FLAGS < <(python3 "$SCRIPTS/bench-report.py" entrypoint-flags src/main/docker/Dockerfile | sed "s#/deployments#$app_abs#g")
[ "${#IMAGE_FLAGS[@]}" -gt 0 ] || die "no JVM flags found in the Dockerfile's ENTRYPOINT"
# A pod's JVM sizes its heap and counts its processors from the container's limits; one started here would see
# the whole machine (an 18 GB heap on a 24 GB one, every core of a laptop). The shop container's limits, as flags
# (bench-report.py pod-jvm-flags; loadtest/README.md, "JVM flags of the image").
mapfile -t POD_FLAGS < <(python3 "$SCRIPTS/bench-report.py" pod-jvm-flags k8s/base/app/shop.yaml)
[ "${#POD_FLAGS[@]}" -eq 2 ] || die "no pod limits read from k8s/base/app/shop.yaml"
export JAVA=$IMAGE_JAVA JAVA_OPTS="${IMAGE_FLAGS[*]} ${POD_FLAGS[*]}"

# The AOT cache, trained the way the image build trains it; redone when the jar is newer than the cache, and when
# jvm.options or the JDK differ from those it was trained with (recorded next to it in app.aot.trained-with): a
# cache trained with other flags or another JDK is used with a mismatch or skipped silently, so an A/B of flags
# would measure the old flags' cache (loadtest/README.md, "JVM flags").
aot=$(printf '%s\n' "${IMAGE_FLAGS[@]}" | sed -n 's/^-XX:AOTCache=//p')
if [ -n "$aot" ]; then
  trained_with=$({ "$IMAGE_JAVA" -version 2>&1; cat "$APP/jvm.options" 2>/dev/null; })
  if [ ! -f "$aot" ] || [ "$APP/quarkus-run.jar" -nt "$aot" ] ||
     [ "$trained_with" != "$(cat "$aot.trained-with" 2>/dev/null)" ]; then
    echo "image-jvm: training the AOT cache $aot (src/main/docker/aot-train.sh)" >&2
    mkdir -p "$OUT"
    rm -f "$aot.trained-with"
    src/main/docker/aot-train.sh "$IMAGE_JAVA" "$app_abs" > "$OUT/aot-train.log" 2>&1 ||
      { tail -n 30 "$OUT/aot-train.log" >&2; die "AOT training failed (log: $OUT/aot-train.log)"; }
    printf '%s\n' "$trained_with" > "$aot.trained-with"
  fi
fi
