package org.massline

import java.io.File
import java.util.concurrent.Executors
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import org.massline.model.Lang
import org.massline.model.Record
import org.massline.model.RecordKind

class ThreadsAndCodesTest {
    @TempDir
    lateinit var tmp: File

    @Test
    fun `one store is used from many threads at once without losing a record`() = runBlocking<Unit> {
        TownshipServer().use { server ->
            server.start()
            val wang = store(tmp, "wang")
            wang.enroll(server.code("wang"), deviceName = "手机")
            // Plain threads calling the store, beside coroutines on the default pool.
            val threads = Executors.newFixedThreadPool(4)
            val fromThreads = (0 until 40).map { i ->
                threads.submit<String> { runBlocking { wang.create(Record.StudyEntry(study("wang", topic = "线程$i"))) } }
            }
            val fromCoroutines = (0 until 40).map { i ->
                async(Dispatchers.Default) {
                    wang.create(Record.StudyEntry(study("wang", topic = "协程$i")))
                    wang.list(RecordKind.STUDY_ENTRY).size
                }
            }
            val syncs = (0 until 3).map { async(Dispatchers.Default) { wang.sync() } }
            fromCoroutines.awaitAll()
            val ids = fromThreads.map { it.get() }
            syncs.awaitAll()
            threads.shutdown()
            assertEquals(80, wang.list(RecordKind.STUDY_ENTRY).size)
            assertEquals(40, ids.toSet().size)
            wang.sync()
            assertEquals(0uL, wang.status().unsent)
            wang.close()
        }
    }

    @Test
    fun `codes have Chinese and English labels`() {
        assertEquals("夜访", Codes.label("study_mode", "night_visit"))
        assertEquals("Night visit", Codes.label("study_mode", "night_visit", Lang.EN))
        assertEquals("unknown", Codes.label("study_mode", "unknown"))
        assertEquals(listOf("self_study"), Codes.choices("study_mode").take(1).map { it.code })
        for (name in listOf("record_kind", "role", "study_material", "opinion_channel", "rectification_status")) {
            val values = Codes.choices(name)
            assertTrue(values.isNotEmpty(), name)
            assertTrue(values.all { it.zh.isNotBlank() && it.en.isNotBlank() }, name)
        }
        assertEquals("时长(分钟)", Codes.field("minutes"))
        assertEquals("Minutes", Codes.field("minutes", Lang.EN))
    }
}
