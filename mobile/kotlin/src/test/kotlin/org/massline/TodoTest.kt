package org.massline

import java.io.File
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import org.massline.model.Lang
import org.massline.model.Record
import org.massline.model.TodoReason

class TodoTest {
    @TempDir
    lateinit var tmp: File

    @Test
    fun `a measure overdue is listed for the person responsible and raised once`() = runBlocking<Unit> {
        TownshipServer().use { server ->
            server.start()
            val zhang = store(tmp, "zhang")
            zhang.enroll(server.code("zhang"), deviceName = "张书记的手机")
            val raised = async(start = CoroutineStart.UNDISPATCHED) {
                withTimeout(30_000) { zhang.newTodos.take(2).toList() }
            }
            val pb = zhang.create(Record.Problem(problem("村务公开不及时")))
            val measure = zhang.create(
                Record.Rectification(rectification(pb, "每月公开一次村务").copy(deadline = today.minusDays(3))),
            )
            zhang.sync()
            zhang.sync()
            val items = zhang.todo()
            val overdue = items.single { it.reason == TodoReason.MEASURE_OVERDUE }
            assertEquals(measure, overdue.record)
            assertTrue(overdue.why.contains("每月公开一次村务"), overdue.why)
            assertTrue(zhang.todo(Lang.EN).single { it.id == overdue.id }.why.startsWith("Measure overdue"))
            // Raised once each, although listed after every edit and sync:
            // no practical things yet, and the measure.
            val once = raised.await()
            assertEquals(
                setOf(TodoReason.PRACTICAL_THINGS, TodoReason.MEASURE_OVERDUE),
                once.map { it.reason }.toSet(),
            )
            assertEquals(items.map { it.id }.toSet(), once.map { it.id }.toSet())
        }
    }
}
