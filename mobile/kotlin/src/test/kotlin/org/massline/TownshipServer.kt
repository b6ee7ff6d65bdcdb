package org.massline

import java.io.File
import java.nio.file.Files
import java.util.concurrent.TimeUnit

/**
 * A real `massline-server` process serving a township made with its admin
 * commands: village 东村 (`dongcun`) with the secretary `zhang` and the
 * members `wang` and `zhao`, and the township officer `liu`; devices only (no dashboard, whose port, the
 * gRPC port + 1, may be another process's).
 */
class TownshipServer : AutoCloseable {
    private val binary = File(
        System.getProperty("massline.server") ?: error("run with -Dmassline.server=PATH (mvn test sets it)"),
    )
    val dir: File = Files.createTempDirectory("massline-township").toFile()
    private val data = File(dir, "server")
    private var process: Process? = null

    /** `host:port` the server listens on, once started. */
    lateinit var address: String
        private set

    init {
        check(binary.canExecute()) { "$binary is missing: build it with cargo build --workspace" }
        admin("township", "红星镇")
        admin("village", "add", "dongcun", "东村")
        for ((id, name, role) in listOf(
            Triple("zhang", "张书记", "secretary"),
            Triple("wang", "王党员", "member"),
            Triple("zhao", "赵党员", "member"),
        )) {
            admin("person", "add", "--name", name, "--role", role, "--village", "dongcun", "--id", id)
        }
        admin("person", "add", "--name", "刘干事", "--role", "township_officer", "--id", "liu")
    }

    private fun run(vararg args: String): String {
        val p = ProcessBuilder(binary.path, *args).redirectErrorStream(true).start()
        val out = p.inputStream.bufferedReader().readText()
        check(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0) { "massline-server ${args.joinToString(" ")}: $out" }
        return out
    }

    private fun admin(vararg args: String): String = run("admin", "--data", data.path, *args)

    /** Starts serving on [listen] (a free port by default) and waits until it listens. */
    fun start(listen: String = "127.0.0.1:0"): TownshipServer {
        val ready = File(dir, "ready-${System.nanoTime()}")
        process = ProcessBuilder(
            binary.path, "serve", "--data", data.path, "--listen", listen, "--ready-file", ready.path, "--no-web",
        ).redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start()
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30)
        while (!(ready.exists() && ready.readText().isNotBlank())) {
            check(process!!.isAlive) { "massline-server exited with ${process!!.exitValue()}" }
            check(System.nanoTime() < deadline) { "massline-server did not start" }
            Thread.sleep(20)
        }
        address = ready.readText().trim()
        return this
    }

    /** Stops the server (SIGTERM) and waits for it to exit. */
    fun stop() {
        process?.let {
            it.destroy()
            it.waitFor(30, TimeUnit.SECONDS)
        }
        process = null
    }

    /** A one-time enrollment code for [person]'s device. */
    fun code(person: String): String =
        admin("enroll-code", "--person", person, "--address", address, "--no-qr")
            .lines().map { it.trim() }.first { it.startsWith("massline://") }

    override fun close() {
        stop()
        dir.deleteRecursively()
    }
}
