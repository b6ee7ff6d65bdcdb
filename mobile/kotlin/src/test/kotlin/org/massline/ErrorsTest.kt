package org.massline

import java.io.File
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import org.massline.ffi.MasslineException
import org.massline.model.Record
import org.massline.model.StudyMode

class ErrorsTest {
    @TempDir
    lateinit var tmp: File

    @Test
    fun `a bad enrollment code and a used one raise their own exceptions`() = runBlocking<Unit> {
        TownshipServer().use { server ->
            server.start()
            val phone = store(tmp, "phone")
            assertThrows<MasslineException.BadEnrollmentCode> { phone.enroll("not a code", deviceName = "手机") }

            val code = server.code("wang")
            store(tmp, "first").enroll(code, deviceName = "手机")
            val refused = assertThrows<MasslineException.Refused> { phone.enroll(code, deviceName = "手机") }
            assertTrue(refused.message.isNotEmpty())
            assertEquals(null, phone.identity(), "a refused enrollment leaves the store as it was")
        }
    }

    @Test
    fun `a server that is down raises Network, for enrollment and for sync`() = runBlocking<Unit> {
        TownshipServer().use { server ->
            server.start()
            val code = server.code("wang")
            val wang = store(tmp, "wang")
            wang.enroll(server.code("wang"), deviceName = "手机")
            server.stop()
            assertThrows<MasslineException.Network> { store(tmp, "other").enroll(code, deviceName = "手机") }
            assertThrows<MasslineException.Network> { wang.sync() }
        }
    }

    @Test
    fun `an invalid record names the field at fault and saves nothing`() = runBlocking<Unit> {
        TownshipServer().use { server ->
            server.start()
            val wang = store(tmp, "wang")
            wang.enroll(server.code("wang"), deviceName = "手机")

            val zero = assertThrows<MasslineException.InvalidRecord> {
                wang.create(Record.StudyEntry(study("wang", minutes = 0u)))
            }
            assertEquals("minutes", zero.field)
            val topic = assertThrows<MasslineException.InvalidRecord> {
                wang.create(Record.StudyEntry(study("wang").copy(topic = " ")))
            }
            assertEquals("topic", topic.field)
            assertTrue("empty" in topic.reason, topic.reason)
            val helper = assertThrows<MasslineException.InvalidRecord> {
                wang.create(Record.StudyEntry(study("wang").copy(mode = StudyMode.NIGHT_VISIT)))
            }
            assertEquals("helper", helper.field)

            // A member may log only their own study.
            assertThrows<MasslineException.Forbidden> { wang.create(Record.Opinion(opinion("意见"))) }
            assertThrows<MasslineException.Forbidden> { wang.create(Record.StudyEntry(study("zhao"))) }
            assertEquals(0uL, wang.status().records)
            assertThrows<MasslineException.NotFound> { wang.get("00".repeat(16)) }
            assertThrows<MasslineException.NotFound> { wang.get("not an id") }
        }
    }

    @Test
    fun `a store that has not enrolled says so`() = runBlocking<Unit> {
        val phone = store(tmp, "phone")
        assertEquals(null, phone.identity())
        assertThrows<MasslineException.NotEnrolled> { phone.create(Record.StudyEntry(study("wang"))) }
        assertThrows<MasslineException.NotEnrolled> { phone.sync() }
        phone.close()
    }

    @Test
    fun `a key is refused by a library built without encryption, and says why`() = runBlocking<Unit> {
        // The host library of these tests is built without the `sqlcipher` feature.
        val refused = assertThrows<MasslineException.StoreKey> {
            MasslineStore.open(File(tmp, "secret.db"), ByteArray(32) { it.toByte() })
        }
        assertTrue("no store encryption" in refused.reason, refused.reason)
        val short = assertThrows<MasslineException.StoreKey> { MasslineStore.open(File(tmp, "secret.db"), ByteArray(16)) }
        assertTrue("32 bytes" in short.reason, short.reason)
        // The same file opens as a plain store.
        store(tmp, "secret").close()
    }
}
