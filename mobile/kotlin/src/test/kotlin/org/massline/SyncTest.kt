package org.massline

import java.io.File
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import org.massline.ffi.MasslineException
import org.massline.model.Note
import org.massline.model.OpinionStatus
import org.massline.model.Record
import org.massline.model.RecordKind
import org.massline.model.RectificationStatus
import org.massline.model.Role

class SyncTest {
    @TempDir
    lateinit var tmp: File

    @Test
    fun `study recorded offline reaches the secretary's phone, and the shared list reaches the member`() = runBlocking<Unit> {
        TownshipServer().use { server ->
            server.start()
            val wang = store(tmp, "wang")
            val zhang = store(tmp, "zhang")
            val me = wang.enroll(server.code("wang"), deviceName = "王党员的手机")
            assertEquals(Role.MEMBER, me.role)
            assertEquals("东村", me.villageName)
            zhang.enroll(server.code("zhang"), deviceName = "张书记的手机")

            // No link: the study is recorded on the phone all the same.
            val address = server.address
            server.stop()
            val entry = study("wang", minutes = 45u)
            val id = wang.create(Record.StudyEntry(entry))
            assertEquals(1uL, wang.status().unsent)
            assertThrows<MasslineException.Network> { wang.sync() }
            val failed = wang.status()
            assertEquals(1uL, failed.unsent, "a failed sync loses nothing")
            assertNotNull(failed.lastError)

            server.start(address)
            val back = wang.sync()
            assertEquals(1uL, back.pushed)
            assertEquals("full", back.handshake, "a restarted server knows no session ticket")
            assertFalse(back.slowLink, "a link on this machine is fast")
            assertEquals("early-data", wang.sync().handshake, "the next sync resumes, its calls sent with the handshake")
            assertEquals(0uL, wang.status().unsent)

            // The secretary's phone learns of the entry through the changes flow.
            val seen = async(start = CoroutineStart.UNDISPATCHED) { withTimeout(30_000) { zhang.changes.first() } }
            val report = zhang.sync()
            assertTrue(id in report.changed, "${report.changed}")
            assertTrue(id in seen.await().ids)
            val row = zhang.get(id)
            assertEquals("study_entry", row.kind)
            assertEquals(entry, row.record!!.studyEntry)
            assertEquals(listOf(id), zhang.list(RecordKind.STUDY_ENTRY).map { it.id })
            assertEquals(45u, zhang.studyLog("wang").single().credit.minutes)

            // A measure the secretary makes reaches the member, and so does its progress.
            val pb = zhang.create(Record.Problem(problem("村务公开不及时")))
            val measure = zhang.create(Record.Rectification(rectification(pb, "每月公开一次村务")))
            zhang.sync()
            wang.sync()
            assertEquals(setOf(RectificationStatus.PLANNED), wang.get(measure).record!!.rectification.steps.keys)
            zhang.edit(measure) {
                val r = it.rectification
                Record.Rectification(
                    r.copy(
                        steps = r.steps + (RectificationStatus.IN_PROGRESS to today),
                        progress = r.progress + Note(today, "已公开一次", "zhang"),
                    ),
                )
            }
            zhang.sync()
            val edited = async(start = CoroutineStart.UNDISPATCHED) { withTimeout(30_000) { wang.changes.first() } }
            wang.sync()
            assertEquals(listOf(measure), edited.await().ids)
            val now = wang.get(measure).record!!.rectification
            assertEquals(setOf(RectificationStatus.PLANNED, RectificationStatus.IN_PROGRESS), now.steps.keys)
            assertEquals("已公开一次", now.progress.single().text)
            assertEquals(2, zhang.history(measure).size, "made, then moved on")

            val status = wang.status()
            assertNotNull(status.lastSuccessAt)
            assertEquals(null, status.lastError)
            assertEquals(3uL, status.records)
            wang.close()
            zhang.close()
        }
    }

    @Test
    fun `every record kind is created, listed, updated and withdrawn offline`() = runBlocking<Unit> {
        TownshipServer().use { server ->
            server.start()
            val zhang = store(tmp, "zhang")
            zhang.enroll(server.code("zhang"), deviceName = "张书记的手机")
            server.stop()

            val pb = zhang.create(Record.Problem(problem("低保评定不公开")))
            val records = listOf(
                Record.StudyEntry(study("zhao")),
                Record.Opinion(opinion("低保评定不公开")),
                Record.Rectification(rectification(pb, "整改")),
                Record.Notice(notice("三月村务公开")),
                Record.PracticalThing(practicalThing("修通组组路")),
            )
            val ids = records.map { zhang.create(it) }
            for ((id, record) in ids.zip(records)) {
                assertEquals(record, zhang.get(id).record)
            }
            assertEquals(6, zhang.list().size)
            for (kind in listOf(
                RecordKind.STUDY_ENTRY, RecordKind.OPINION, RecordKind.PROBLEM,
                RecordKind.RECTIFICATION, RecordKind.NOTICE, RecordKind.PRACTICAL_THING,
            )) {
                assertEquals(1, zhang.list(kind).size, kind.toString())
            }

            // A visit's demand becomes a service request, and the two name each other.
            val v = zhang.create(Record.Visit(visit("看病报销难")))
            val sr = zhang.makeFromDemand(v, "d1", Record.ServiceRequest(serviceRequest("刘大爷")))
            val demand = (zhang.get(v).record as Record.Visit).v1.demands.single()
            assertEquals(sr, demand.serviceRequest)
            assertEquals(v, (zhang.get(sr).record as Record.ServiceRequest).v1.visit!!.visit)

            // A three-way update: only what was changed from the base is written.
            val base = records[1]
            val answered = Record.Opinion(base.opinion.copy(status = OpinionStatus.ANSWERED, answer = "已在村务公开栏公布"))
            assertEquals(answered, zhang.update(ids[1], base, answered))
            val longer = Record.StudyEntry(records[0].studyEntry.copy(minutes = 90u))
            assertEquals(90u, zhang.update(ids[0], records[0], longer).studyEntry.minutes)
            val done = zhang.edit(ids[2]) {
                Record.Rectification(it.rectification.copy(steps = it.rectification.steps + (RectificationStatus.IN_PROGRESS to today)))
            }
            assertTrue(RectificationStatus.IN_PROGRESS in done.rectification.steps)
            assertEquals(ids[2], zhang.resolve(ids[2].take(12)))
            assertTrue(zhang.warnings().any { it.about == "practical_thing" }, "one practical thing is fewer than 3")

            zhang.withdraw(ids[3], "录入有误")
            assertFalse(zhang.list(RecordKind.NOTICE).any { it.id == ids[3] })
            val withdrawn = zhang.listAll(RecordKind.NOTICE).single()
            assertEquals("录入有误", withdrawn.withdrawn!!.reason)
            assertEquals("zhang", withdrawn.withdrawn!!.by)
            zhang.close()
        }
    }

    @Test
    fun `sync progress counts the changes sent of those waiting, and the bytes`() = runBlocking<Unit> {
        TownshipServer().use { server ->
            server.start()
            val zhang = store(tmp, "zhang")
            zhang.enroll(server.code("zhang"), deviceName = "张书记的手机")
            repeat(40) { zhang.create(Record.Opinion(opinion("第${it}条：路灯不亮"))) }
            val waiting = zhang.status()
            assertEquals(40uL, waiting.unsent)
            assertTrue(waiting.unsentBytes > 40uL * 100uL, "${waiting.unsentBytes}")
            val before = zhang.syncProgress().first()
            assertFalse(before.running)
            assertEquals(0uL, before.sent)

            assertEquals(40uL, zhang.sync().pushed)
            val after = zhang.syncProgress().first()
            assertFalse(after.running)
            assertEquals(40uL, after.toSend)
            assertEquals(40uL, after.sent)
            assertTrue(after.bytesSent > 1_000uL && after.bytesReceived > 0uL, "$after")
            zhang.close()
        }
    }
}
