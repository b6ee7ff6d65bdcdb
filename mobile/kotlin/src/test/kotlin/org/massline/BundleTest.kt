package org.massline

import java.io.ByteArrayInputStream
import java.io.ByteArrayOutputStream
import java.io.File
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import org.massline.ffi.MasslineException
import org.massline.model.Record

class BundleTest {
    @TempDir
    lateinit var tmp: File

    /** `massline-server admin bundle import` on [server]'s data: the reply's bytes. */
    private fun importAtTownship(server: TownshipServer, bundle: ByteArray): ByteArray {
        val file = File(tmp, "device.bundle").apply { writeBytes(bundle) }
        val reply = File(tmp, "reply.bundle")
        val p = ProcessBuilder(
            System.getProperty("massline.server"), "admin", "--data", File(server.dir, "server").path,
            "bundle", "import", file.path, "--reply-out", reply.path,
        ).redirectErrorStream(true).start()
        val out = p.inputStream.bufferedReader().readText()
        check(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0) { out }
        return reply.readBytes()
    }

    @Test
    fun `a record travels by bundle streams, and a changed reply is refused`() = runBlocking<Unit> {
        TownshipServer().use { server ->
            server.start()
            val wang = store(tmp, "wang")
            val zhang = store(tmp, "zhang")
            wang.enroll(server.code("wang"), deviceName = "王党员的手机")
            zhang.enroll(server.code("zhang"), deviceName = "张书记的手机")
            server.stop()

            // No link: the record goes as a file, and its reply comes back.
            val id = wang.create(Record.StudyEntry(study("wang", minutes = 45u)))
            val out = ByteArrayOutputStream()
            val size = wang.exportBundle(out)
            assertEquals(out.size(), size)
            val reply = importAtTownship(server, out.toByteArray())

            val bad = reply.copyOf().also { it[it.size - 1] = (it[it.size - 1].toInt() xor 1).toByte() }
            assertThrows<MasslineException.Bundle> { wang.importBundle(ByteArrayInputStream(bad)) }
            assertEquals(1uL, wang.status().unsent, "a refused reply changes nothing")

            assertEquals(1uL, wang.importBundle(ByteArrayInputStream(reply)).pushed)
            assertEquals(0uL, wang.status().unsent)

            val mine = ByteArrayOutputStream().also { zhang.exportBundle(it) }
            val theirs = importAtTownship(server, mine.toByteArray())
            val report = zhang.importBundle(ByteArrayInputStream(theirs))
            assertTrue(id in report.changed, "${report.changed}")
            assertEquals("study_entry", zhang.get(id).kind)
        }
    }
}
