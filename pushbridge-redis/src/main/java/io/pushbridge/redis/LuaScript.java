package io.pushbridge.redis;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A Lua script from this package's resources, run with {@code EVALSHA} and loaded with {@code EVAL}
 * the first time a server does not know it (after a restart, or on another cluster shard): one
 * round trip in the common case, two once per server. Shared by this package and its sub-packages
 * (the upstream consumer's leases); not meant for applications.
 */
public final class LuaScript {

    private final String name;
    private final byte[] body;
    private final String sha1;

    private LuaScript(String name, String body) {
        this.name = name;
        this.body = body.getBytes(StandardCharsets.UTF_8);
        try {
            this.sha1 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(this.body));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Loads {@code <name>.lua}, prefixed by {@code common.lua} when {@code withCommon}. */
    public static LuaScript load(String name, boolean withCommon) {
        String text = (withCommon ? resource("common") + "\n" : "") + resource(name);
        return new LuaScript(name, text);
    }

    /** Loads {@code <name>.lua} prefixed by the given scripts of this package, in order (shared functions). */
    static LuaScript load(String name, List<String> preludes) {
        StringBuilder text = new StringBuilder();
        for (String prelude : preludes) {
            text.append(resource(prelude)).append('\n');
        }
        return new LuaScript(name, text.append(resource(name)).toString());
    }

    private static String resource(String name) {
        try (InputStream in = LuaScript.class.getResourceAsStream(name + ".lua")) {
            if (in == null) {
                throw new IllegalStateException("missing script resource " + name + ".lua");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs the script; the stage fails with Redis' error (a script error, or the server being unreachable). */
    public <T> CompletableFuture<T> run(RedisClusterAsyncCommands<byte[], byte[]> redis, ScriptOutputType type,
            byte[][] keys, byte[]... args) {
        return redis.<T>evalsha(sha1, type, keys, args).toCompletableFuture()
                .handle((result, failure) -> {
                    if (failure == null) {
                        return CompletableFuture.completedFuture(result);
                    }
                    Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
                    if (cause instanceof RedisNoScriptException) {
                        return redis.<T>eval(body, type, keys, args).toCompletableFuture();
                    }
                    return CompletableFuture.<T>failedFuture(cause);
                })
                .thenCompose(f -> f);
    }

    @Override
    public String toString() {
        return "LuaScript[" + name + " " + sha1 + "]";
    }
}
