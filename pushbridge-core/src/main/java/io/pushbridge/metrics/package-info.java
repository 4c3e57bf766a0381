/**
 * PushBridge's meters. {@link io.pushbridge.metrics.PushBridgeMeter} names every one of them (name,
 * type, unit, tag keys, description); the enums beside it are the fixed sets their tags take
 * ({@link io.pushbridge.metrics.BadInput}, {@link io.pushbridge.metrics.ConnectRefusal},
 * {@link io.pushbridge.metrics.MessageSource}, {@link io.pushbridge.metrics.ResyncReason}), so that
 * the number of time series never grows with traffic. {@link io.pushbridge.metrics.PushBridgeMeters}
 * is how a component registers its meters and removes them when it stops.
 *
 * <p>The gateway records into the {@code MeterRegistry} given to
 * {@code PushBridgeGateway.Builder.meterRegistry}; without one nothing is recorded.
 */
@NullMarked
package io.pushbridge.metrics;

import org.jspecify.annotations.NullMarked;
